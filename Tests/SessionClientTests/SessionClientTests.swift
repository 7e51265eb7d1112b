import Foundation
import NIOCore
import NIOPosix
import RedisTestSupport
import SessionServer
import Testing

@testable import SessionClient

struct Claims: Codable, Equatable {
    let name: String
    let roles: [String]
}

@Suite struct SessionClientTests {
    @Test func wholeLifecycleAgainstALiveSessiond() async throws {
        try await LiveSessiond.run { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                let issued = try await client.create(userID: "alice", data: Claims(name: "Alice", roles: ["admin"]), ip: "10.0.0.1")
                #expect(issued.setCookie.hasPrefix("__Host-sid=\(issued.token);"))
                #expect(issued.session.userID == "alice")
                #expect(issued.session.ip == "10.0.0.1")

                let resolved = try #require(try await client.resolve(cookieHeader: "a=1; __Host-sid=\(issued.token); b=2"))
                #expect(try resolved.data(as: Claims.self) == Claims(name: "Alice", roles: ["admin"]))
                #expect(resolved.expiresAt > resolved.idleExpiresAt)
                #expect(try await client.resolve(cookieHeader: "other=1") == nil)
                #expect(try await client.resolve(cookieHeader: nil) == nil)

                let updated = try #require(try await client.update(token: issued.token, mergePatch: ["name": "Alice L."], expectedVersion: 1))
                #expect(updated.version == 2)
                #expect(try updated.data(as: Claims.self).name == "Alice L.")
                await #expect(throws: SessionClientError.self) {
                    try await client.update(token: issued.token, mergePatch: ["name": "x"], expectedVersion: 1)
                }

                let rotated = try #require(try await client.rotate(token: issued.token))
                #expect(try await client.resolve(token: issued.token) == nil)
                #expect(try await client.resolve(token: rotated.token)?.handle == rotated.session.handle)

                let second = try await client.create(userID: "alice")
                #expect(try await client.sessions(ofUser: "alice").map(\.handle) == [second.session.handle, rotated.session.handle])
                #expect(try await client.purge(user: "alice", except: second.session.handle) == 1)
                #expect(try await client.destroy(handle: second.session.handle))
                #expect(try await client.destroy(handle: second.session.handle) == false)
                #expect(try await client.resolve(token: second.token) == nil)
                try await client.destroy(token: second.token)  // idempotent
            }
        }
    }

    @Test func authenticationFailuresAreTypedErrors() async throws {
        try await LiveSessiond.run { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: "wrong-key-0123456789")) { client in
                do {
                    _ = try await client.resolve(token: String(repeating: "A", count: 47))
                    Issue.record("a wrong key resolved")
                } catch let error as SessionClientError {
                    #expect(error.code == .unauthorized)
                    #expect(error.status == 401)
                }
            }
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.readerKey)) { client in
                do {
                    _ = try await client.create(userID: "x")
                    Issue.record("a read-only key created a session")
                } catch let error as SessionClientError {
                    #expect(error.code == .forbidden)
                }
            }
        }
    }

    @Test func resolvesSurviveKeepAliveConnectionsClosedBySessiond() async throws {
        // sessiond closes idle keep-alive connections after 1 s; the client's next resolve finds its
        // pooled connection dead and must retry on a new one, not report sessiond unavailable.
        try await LiveSessiond.run(configure: { $0.limits.idleConnectionTimeout = 1 }) { url in
            // A generous request timeout: the subject is the retry, and the parallel suite can starve a
            // loop for a second or more on two cores.
            let configuration = SessionClientConfiguration(baseURL: url, apiKey: LiveSessiond.adminKey, timeouts: .init(request: .seconds(5)))
            try await SessionClient.withSessionClient(configuration: configuration) { client in
                let issued = try await client.create(userID: "keepalive")
                for _ in 0..<3 {
                    #expect(try await client.resolve(token: issued.token)?.handle == issued.session.handle)
                    try await Task.sleep(for: .milliseconds(1600))
                }
            }
        }
    }

    @Test func moreConcurrentResolvesThanConnectionsAllComplete() async throws {
        try await LiveSessiond.run { url in
            // One deadline covers waiting for a connection: 20 callers per connection on a loaded machine
            // need more than the default second; the subject here is that every one completes.
            let configuration = SessionClientConfiguration(
                baseURL: url, apiKey: LiveSessiond.adminKey, timeouts: .init(request: .seconds(10)), maximumConnections: 2
            )
            try await SessionClient.withSessionClient(configuration: configuration) { client in
                let issued = try await client.create(userID: "pool")
                let handles = try await withThrowingTaskGroup(of: String?.self) { group in
                    for _ in 0..<40 { group.addTask { try await client.resolve(token: issued.token)?.handle } }
                    var handles: [String?] = []
                    for try await handle in group { handles.append(handle) }
                    return handles
                }
                #expect(handles.count == 40)
                #expect(handles.allSatisfy { $0 == issued.session.handle })
            }
        }
    }

    @Test func aSessiondThatNeverAnswersTimesOutAsUnavailable() async throws {
        // A listener that accepts and reads but never answers.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(server.localAddress?.port)
        let configuration = SessionClientConfiguration(
            baseURL: "http://127.0.0.1:\(port)",
            apiKey: "k",
            timeouts: .init(connect: .milliseconds(250), request: .milliseconds(300))
        )
        try await SessionClient.withSessionClient(configuration: configuration) { client in
            for _ in 0..<2 {  // the second request must not inherit the first one's dead connection
                let started = ContinuousClock.now
                do {
                    _ = try await client.resolve(token: String(repeating: "A", count: 47))
                    Issue.record("a silent sessiond produced an answer")
                } catch let error as SessionClientError {
                    #expect(error.isUnavailable)
                }
                let waited = ContinuousClock.now - started
                #expect(waited >= .milliseconds(250) && waited < .seconds(3), "waited \(waited)")
            }
        }
        try await server.close()
    }

    @Test func tokensThatCannotBeTokensNeverReachAHeader() async throws {
        // Against a port nobody listens on: a request would throw "unavailable"; nil proves none was made.
        try await SessionClient.withSessionClient(configuration: .init(baseURL: "http://127.0.0.1:6459", apiKey: "k")) { client in
            for token in ["", "abc\r\nX-Evil: 1", "tab\there", String(repeating: "A", count: 600), "ünïcode"] {
                let resolved = try await client.resolve(token: token)
                #expect(resolved == nil)
            }
        }
    }

    @Test func theLeanResolveTransportServesPlainHTTPOnly() {
        func transport(_ url: String) -> ResolveTransport? {
            ResolveTransport(baseURL: url, maximumConnections: 1, maximumWaiters: 1, connectTimeout: .seconds(1), requestTimeout: .seconds(1))
        }
        #expect(transport("http://127.0.0.1:8080") != nil)
        #expect(transport("http://sessiond") != nil)
        #expect(transport("https://sessiond:8443") == nil)  // TLS: AsyncHTTPClient
        #expect(transport("not a url") == nil)
    }

    @Test func stoppedSessiondIsATypedUnavailableErrorNotANil() async throws {
        let closedPort = 6459
        try await SessionClient.withSessionClient(configuration: .init(baseURL: "http://127.0.0.1:\(closedPort)", apiKey: "k")) { client in
            do {
                _ = try await client.resolve(token: String(repeating: "A", count: 47))
                Issue.record("resolve against a stopped sessiond returned")
            } catch let error as SessionClientError {
                #expect(error.isUnavailable)
            }
        }
    }

    @Test func nearCacheServesWithinItsTTLAndNeverCachesMisses() async throws {
        try await LiveSessiond.run { url in
            let cacheConfiguration = SessionClientConfiguration(
                baseURL: url, apiKey: LiveSessiond.adminKey, nearCache: .init(capacity: 2, timeToLive: .milliseconds(1500))
            )
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { plain in
                try await SessionClient.withSessionClient(configuration: cacheConfiguration) { cached in
                    let issued = try await plain.create(userID: "cache-user")
                    #expect(try await cached.resolve(token: issued.token) != nil)
                    // Logged out elsewhere: the cache may serve it until the TTL passes, never after.
                    try await plain.destroy(token: issued.token)
                    #expect(try await cached.resolve(token: issued.token) != nil)
                    try await Task.sleep(for: .milliseconds(1700))
                    #expect(try await cached.resolve(token: issued.token) == nil)

                    // Misses are not cached.
                    #expect(cached.cachedSessionCount == 0)
                    #expect(try await cached.resolve(token: String(repeating: "B", count: 47)) == nil)
                    #expect(cached.cachedSessionCount == 0)

                    // Capacity is bounded (LRU).
                    for _ in 0..<3 {
                        let other = try await plain.create(userID: "cache-user")
                        _ = try await cached.resolve(token: other.token)
                    }
                    #expect(cached.cachedSessionCount == 2)
                }
            }
        }
    }

    @Test func nearCacheNeverServesPastTheIdleDeadline() async throws {
        try await LiveSessiond.run { url in
            let configuration = SessionClientConfiguration(
                baseURL: url, apiKey: LiveSessiond.adminKey, nearCache: .init(capacity: 10, timeToLive: .seconds(60))
            )
            try await SessionClient.withSessionClient(configuration: configuration) { cached in
                let issued = try await cached.create(userID: "short", idleTimeout: .seconds(1))
                #expect(try await cached.resolve(token: issued.token) != nil)
                try await Task.sleep(for: .milliseconds(1300))
                #expect(try await cached.resolve(token: issued.token) == nil)
            }
        }
    }

    @Test func timestampsParse() {
        #expect(RFC3339.parse("1970-01-01T00:00:01.500Z")?.timeIntervalSince1970 == 1.5)
        #expect(RFC3339.parse("2000-02-29T12:00:00Z")?.timeIntervalSince1970 == 951_825_600)
        #expect(RFC3339.parse("garbage") == nil)
    }
}
