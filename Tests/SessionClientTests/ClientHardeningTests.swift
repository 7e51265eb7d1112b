import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SessionClientHummingbird
import SessionCore
import Testing

@testable import SessionClient

/// A stand-in for sessiond (or for whatever sits at the wrong base URL): answers each request with
/// what `answer` returns for its head, optionally held until `release()`.
final class FakeSessiond: Sendable {
    struct Request: Sendable {
        let head: String
        /// The `X-Session-Token` value, if any.
        var token: String? {
            for line in self.head.split(separator: "\r\n") where line.lowercased().hasPrefix("x-session-token:") {
                return line.dropFirst("x-session-token:".count).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
        var method: String { String(self.head.prefix { $0 != " " }) }
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<(connections: Int, held: [@Sendable () -> Void], holding: Bool)>
    var port: Int { self.channel.localAddress!.port! }
    var url: String { "http://127.0.0.1:\(self.port)" }
    var connections: Int { self.state.withLockedValue { $0.connections } }
    /// Answers held by ``hold()`` so far.
    var held: Int { self.state.withLockedValue { $0.held.count } }

    init(answer: @escaping @Sendable (Request) -> String?) async throws {
        let state = NIOLockedValueBox<(connections: Int, held: [@Sendable () -> Void], holding: Bool)>((0, [], false))
        self.state = state
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                state.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// From now on answers wait until ``release()``.
    func hold() { self.state.withLockedValue { $0.holding = true } }

    /// Sends every held answer.
    func release() {
        let held = self.state.withLockedValue { state -> [@Sendable () -> Void] in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for send in held { send() }
    }

    func close() async throws { try await self.channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: @Sendable (Request) -> String?
        let state: NIOLockedValueBox<(connections: Int, held: [@Sendable () -> Void], holding: Bool)>
        var pending = ""

        init(answer: @escaping @Sendable (Request) -> String?, state: NIOLockedValueBox<(connections: Int, held: [@Sendable () -> Void], holding: Bool)>) {
            self.answer = answer
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.pending += String(buffer: self.unwrapInboundIn(data))
            while let end = self.pending.range(of: "\r\n\r\n") {
                let head = String(self.pending[..<end.lowerBound])
                self.pending = String(self.pending[end.upperBound...])
                // Requests with a body (DELETE/PATCH from AsyncHTTPClient carry none here).
                guard let reply = self.answer(Request(head: head)) else { continue }
                let channel = context.channel
                let send: @Sendable () -> Void = { channel.writeAndFlush(ByteBuffer(string: reply), promise: nil) }
                let held = self.state.withLockedValue { state -> Bool in
                    if state.holding, !head.hasPrefix("DELETE") { state.held.append(send); return true }
                    return false
                }
                if !held { send() }
            }
        }
    }
}

func http(_ status: Int, _ body: String) -> String {
    "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
}

func sessionJSON(handle: String) -> String {
    #"{"handle":"\#(handle)","user_id":"u","created_at":"2026-11-29T03:46:57.123Z","last_seen_at":"2026-11-29T03:46:57.123Z","idle_expires_at":"2099-11-29T04:16:57.123Z","expires_at":"2099-11-30T03:46:57.123Z","version":1,"metadata":{},"data":{}}"#
}

/// sessiond's handle for a token, computed with the server's own code.
func serverHandle(_ token: String) -> String { SessionToken(parsing: token)!.handle.value }

@Suite struct ClientHardeningTests {
    static let token = SessionToken.generate(for: "u").value
    /// Where timing is not the subject: the parallel suite can starve an event loop for a second on two cores.
    static let generous = SessionClientConfiguration.Timeouts(connect: .seconds(2), request: .seconds(5))

    @Test func theClientComputesTheServersHandle() {
        for _ in 0..<50 {
            let token = SessionToken.generate(for: UUID().uuidString).value
            #expect(SessionClient.handle(ofToken: token) == serverHandle(token))
        }
    }

    /// An answer about another session (a confused proxy or connection) is an error, its connection is
    /// dropped, and the near-cache never keeps it.
    @Test func anAnswerForAnotherSessionIsRefused() async throws {
        let other = SessionToken.generate(for: "someone else").handle.value
        let fake = try await FakeSessiond { _ in http(200, sessionJSON(handle: other)) }
        let configuration = SessionClientConfiguration(baseURL: fake.url, apiKey: "k", timeouts: Self.generous, nearCache: .init())
        try await SessionClient.withSessionClient(configuration: configuration) { client in
            for attempt in 1...2 {
                await #expect {
                    try await client.resolve(token: Self.token)
                } throws: { error in
                    (error as? SessionClientError)?.code == .invalidResponse
                }
                #expect(client.cachedSessionCount == 0)
                #expect(fake.connections == attempt, "the connection that carried a foreign answer was reused")
            }
        }
        try await fake.close()
        // The same answer with the right handle is accepted.
        let right = try await FakeSessiond { request in http(200, sessionJSON(handle: serverHandle(request.token!))) }
        try await SessionClient.withSessionClient(configuration: .init(baseURL: right.url, apiKey: "k", timeouts: Self.generous)) { client async throws in
            #expect(try await client.resolve(token: Self.token)?.handle == serverHandle(Self.token))
        }
        try await right.close()
    }

    /// Only sessiond's `session_not_found` means "no session": another 404 is an error, and the
    /// middleware fails closed (503).
    @Test func onlySessiondsOwn404MeansNoSession() async throws {
        let proxy = try await FakeSessiond { _ in http(404, "<html>Not Found</html>") }
        try await SessionClient.withSessionClient(configuration: .init(baseURL: proxy.url, apiKey: "k", timeouts: Self.generous)) { client in
            await #expect {
                try await client.resolve(token: Self.token)
            } throws: { error in
                (error as? SessionClientError)?.code == .invalidResponse
            }
            let router = Router(context: BasicSessionRequestContext.self)
            router.add(middleware: SessionMiddleware(client: client))
            router.get("/") { _, context in context.session == nil ? "anonymous" : "signed in" }
            try await Application(router: router).test(.router) { test in
                try await test.execute(uri: "/", method: .get, headers: [.cookie: "__Host-sid=\(Self.token)"]) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
        try await proxy.close()
        let sessiond = try await FakeSessiond { _ in http(404, #"{"error":{"code":"session_not_found","message":"no session"}}"#) }
        try await SessionClient.withSessionClient(configuration: .init(baseURL: sessiond.url, apiKey: "k", timeouts: Self.generous)) { client async throws in
            #expect(try await client.resolve(token: Self.token) == nil)
        }
        try await sessiond.close()
    }

    /// A resolve in flight when this process logs the session out must not put it back in the cache.
    @Test func aResolveInFlightDuringALogoutIsNotCached() async throws {
        let loggedOut = NIOLockedValueBox(false)
        let fake = try await FakeSessiond { request in
            if request.method == "DELETE" {
                loggedOut.withLockedValue { $0 = true }
                return "HTTP/1.1 204 No Content\r\n\r\n"
            }
            // Answers are decided when the request arrives (and may be held): after the logout, 404.
            if loggedOut.withLockedValue({ $0 }) {
                return http(404, #"{"error":{"code":"session_not_found","message":"no session"}}"#)
            }
            return http(200, sessionJSON(handle: serverHandle(request.token!)))
        }
        let configuration = SessionClientConfiguration(baseURL: fake.url, apiKey: "k", timeouts: Self.generous, nearCache: .init(capacity: 10, timeToLive: .seconds(60)))
        try await SessionClient.withSessionClient(configuration: configuration) { client in
            fake.hold()
            let inFlight = Task { try await client.resolve(token: Self.token) }
            while fake.held == 0 { try await Task.sleep(for: .milliseconds(10)) }  // sessiond has answered, in flight
            try await client.destroy(token: Self.token)
            fake.release()
            // The answer was taken before the logout: the caller gets it, the cache does not.
            #expect(try await inFlight.value != nil)
            #expect(client.cachedSessionCount == 0)
            #expect(try await client.resolve(token: Self.token) == nil)
        }
        try await fake.close()
    }

    /// With sessiond stalled: every caller gets a typed error within its deadline, the queue is
    /// capped, and a cancelled waiter leaves the queue at once.
    @Test func waitingIsBoundedInTimeAndNumber() async throws {
        let silent = try await FakeSessiond { _ in nil }
        let configuration = SessionClientConfiguration(
            baseURL: silent.url, apiKey: "k", timeouts: .init(connect: .milliseconds(250), request: .seconds(2)),
            maximumConnections: 1, maximumWaiters: 2
        )
        try await SessionClient.withSessionClient(configuration: configuration) { client in
            let results = try await withThrowingTaskGroup(of: (SessionClientError.Code?, Duration).self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(40 * index))  // holder first, then the queue
                        // Each caller's own wait, from its call: on a loaded CI machine the tasks
                        // themselves may start seconds late, which says nothing about the client.
                        let started = ContinuousClock.now
                        do {
                            _ = try await client.resolve(token: Self.token)
                            return (nil, ContinuousClock.now - started)
                        } catch let error as SessionClientError {
                            return (error.code, ContinuousClock.now - started)
                        }
                    }
                }
                var results: [(SessionClientError.Code?, Duration)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.filter { $0.0 == .overloaded }.count == 1, "\(results)")
            #expect(results.filter { $0.0 == .unavailable }.count == 3, "\(results)")
            // One deadline each: no caller waits much past its request timeout (2 s, plus slack for a
            // loaded machine), and the refused caller is refused at once. Waiting for the connection
            // first and then for a request timeout of its own, as before, kept a waiter ~4 s.
            #expect(results.allSatisfy { $0.1 < .milliseconds(3500) }, "\(results)")
            #expect(results.filter { $0.0 == .overloaded }.allSatisfy { $0.1 < .milliseconds(1500) }, "\(results)")
            #expect(client.resolveWaiters == 0)

            // Cancellation: a queued caller leaves at once.
            let holder = Task { try? await client.resolve(token: Self.token) }
            try await Task.sleep(for: .milliseconds(50))
            let waiter = Task { () -> Duration in
                let start = ContinuousClock.now
                _ = try? await client.resolve(token: Self.token)
                return ContinuousClock.now - start
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(client.resolveWaiters == 1)
            waiter.cancel()
            let waited = await waiter.value
            #expect(waited < .milliseconds(1500), "a cancelled waiter stayed \(waited)")
            #expect(client.resolveWaiters == 0)
            _ = await holder.value
        }
        try await silent.close()
    }
}
