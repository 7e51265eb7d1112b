import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import Testing

@testable import SessionServer

/// sessiond over a Redis that goes away: 503 (never 404) within the command timeout, then recovery.
@Suite struct RedisOutageTests {
    static let key = "outage-key-0123456789-abcdefghijklmnop"

    @Test func redisStoppedMidTestAnswers503ThenRecovers() async throws {
        let server = try RedisProcess(port: 6441)
        var redisConfiguration = try RedisConfiguration(url: server.url)
        redisConfiguration.timeouts = .init(connect: .milliseconds(200), command: .milliseconds(250))
        redisConfiguration.backoff = .init(initial: .milliseconds(10), maximum: .milliseconds(100))
        let redis = RedisClient(configuration: redisConfiguration, logger: Logger(label: "test"))
        let repository = RedisSessionRepository(redis: redis, layout: KeyLayout(prefix: "outage:"), policy: .init(), logger: Logger(label: "test"))
        let router = SessionApplication.makeRouter(
            configuration: SessionServiceConfiguration(),
            repository: repository,
            apiKeys: try APIKeys(parsing: "k sessions:read,sessions:create,sessions:write \(Self.key)"),
            prometheus: nil,
            redis: redis
        )
        let headers: HTTPFields = [.authorization: "Bearer \(Self.key)", .contentType: "application/json"]
        try await Application(router: router).test(.router) { client in
            let token = try await client.execute(uri: "/v1/sessions", method: .post, headers: headers, body: ByteBuffer(string: #"{"user_id":"zoe"}"#)) { response in
                #expect(response.status == .created)
                return ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?["token"] as? String ?? ""
            }
            var resolveHeaders = headers
            resolveHeaders[HTTPField.Name("X-Session-Token")!] = token

            server.kill()
            for _ in 0..<5 {
                let started = ContinuousClock.now
                try await client.execute(uri: "/v1/session", method: .get, headers: resolveHeaders) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(String(buffer: response.body).contains("store_unavailable"))
                    #expect(!String(buffer: response.body).contains(token))
                }
                #expect(ContinuousClock.now - started < .seconds(1))
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }

            try server.start()
            var recovered = false
            for _ in 0..<40 {
                let status = try await client.execute(uri: "/readyz", method: .get) { $0.status }
                if status == .ok { recovered = true; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(recovered)
            // The data was lost with the process (no persistence): the old token is now a clean 404.
            try await client.execute(uri: "/v1/session", method: .get, headers: resolveHeaders) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/sessions", method: .post, headers: headers, body: ByteBuffer(string: #"{"user_id":"zoe"}"#)) { response in
                #expect(response.status == .created)
            }
        }
        await redis.shutdown()
    }

    /// A private Redis for pause tests: sessiond's client to it (250 ms command timeout, 200 ms
    /// connect) and an admin client that pauses it.
    struct PausableRedis {
        let server: RedisProcess
        let redis: RedisClient
        let admin: RedisClient

        init(port: Int, poolSize: Int? = nil) throws {
            self.server = try RedisProcess(port: port)
            var configuration = try RedisConfiguration(url: self.server.url)
            configuration.timeouts = .init(connect: .milliseconds(200), command: .milliseconds(250))
            if let poolSize { configuration.poolSize = poolSize }
            self.redis = RedisClient(configuration: configuration, logger: Logger(label: "test"))
            var adminConfiguration = try RedisConfiguration(url: self.server.url)
            adminConfiguration.timeouts = .init(connect: .seconds(2), command: .seconds(2))
            self.admin = RedisClient(configuration: adminConfiguration, logger: Logger(label: "test"))
        }

        func repository(prefix: String, policy: StorePolicy = .init()) -> RedisSessionRepository {
            RedisSessionRepository(redis: self.redis, layout: KeyLayout(prefix: prefix), policy: policy, logger: Logger(label: "test"))
        }

        /// `CLIENT PAUSE milliseconds mode` (`WRITE`: a primary holding its writers; `ALL`: a hung one).
        func pause(milliseconds: Int, _ mode: String) async throws {
            try await self.admin.send("CLIENT", "PAUSE", RedisArgument(milliseconds), RedisArgument(mode))
        }

        func shutdown() async {
            await self.redis.shutdown()
            await self.admin.shutdown()
        }
    }

    static func newSession(_ user: String = "u") -> NewSession {
        NewSession(userID: user, dataJSON: Array("{}".utf8), metadataJSON: Array("{}".utf8), idleTimeout: 60_000, absoluteTimeout: 60_000)
    }

    /// A hung Redis (every client paused, a new connection too): 503 within two command timeouts —
    /// the read's own, and the one on a new connection that tells a hang from a write pause.
    @Test func hungRedisAnswers503WithinTwoCommandTimeouts() async throws {
        let lab = try PausableRedis(port: 6442, poolSize: 1)
        let repository = lab.repository(prefix: "slow:")
        let issued = try await repository.create(Self.newSession())
        try await lab.pause(milliseconds: 1500, "ALL")
        let started = ContinuousClock.now
        do {
            _ = try await repository.resolve(issued.token)
            Issue.record("resolve succeeded while Redis was paused")
        } catch let error as SessionStoreError {
            #expect(error.isUnavailable)
        }
        #expect(ContinuousClock.now - started < .milliseconds(1000))
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try await repository.resolve(issued.token) != nil)
        await lab.shutdown()
    }

    /// A logout sent while the primary pauses its writers (what a graceful `CLUSTER FAILOVER` does,
    /// longer than the command timeout on a busy machine) is sent again on a new connection within
    /// the failover budget: it succeeds when the pause ends instead of answering 503.
    @Test func aLogoutDuringAWritePauseLongerThanTheCommandTimeoutSucceeds() async throws {
        let lab = try PausableRedis(port: 6449)
        var policy = StorePolicy()
        policy.revocation = RevocationPolicy(replicas: nil, timeout: 100, mode: .bestEffort)  // the default: durable-logout path
        let repository = lab.repository(prefix: "pause:", policy: policy)
        let issued = try await repository.create(Self.newSession())
        try await lab.pause(milliseconds: 700, "WRITE")
        let started = ContinuousClock.now
        #expect(try await repository.destroy(issued.token))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(500) && elapsed < .seconds(5), "\(elapsed)")
        #expect(try await repository.resolve(issued.token) == nil)
        await lab.shutdown()
    }

    /// On the shared pipelined connections too: a create, a list and a logout (no replicas to wait
    /// for) sent while the primary pauses its writers are sent again while it still answers `PING`,
    /// and succeed when the pause ends. A resolve does not wait for the pause: its `GET`, stuck on
    /// the one pipelined connection behind a held-back create, is read again on a new connection,
    /// and a held-back slide answers from the record. Before, each answered 503 after the command
    /// timeout.
    @Test func writesDuringAWritePauseSucceedAndResolvesDoNotWait() async throws {
        let lab = try PausableRedis(port: 6450, poolSize: 1)
        var policy = StorePolicy(touchInterval: 0)  // every resolve touches
        policy.revocation = RevocationPolicy(replicas: 0, timeout: 100, mode: .bestEffort)
        let repository = lab.repository(prefix: "pause-shared:", policy: policy)
        let first = try await repository.create(Self.newSession("paused"))

        try await lab.pause(milliseconds: 700, "WRITE")
        var started = ContinuousClock.now
        let held = Task { try await repository.create(Self.newSession("paused")) }  // now ahead on the one connection
        try await Task.sleep(for: .milliseconds(30))
        #expect(try await repository.resolve(first.token)?.handle == first.token.handle)
        #expect(ContinuousClock.now - started < .milliseconds(650), "the resolve waited for the pause")
        let second = try await held.value
        #expect(ContinuousClock.now - started >= .milliseconds(500))
        #expect(try await repository.sessions(ofUser: "paused").count == 2)  // resent, not created twice

        try await lab.pause(milliseconds: 700, "WRITE")
        started = ContinuousClock.now
        #expect(try await repository.destroy(first.token))
        #expect(ContinuousClock.now - started >= .milliseconds(500))
        #expect(try await repository.resolve(first.token) == nil)
        #expect(try await repository.resolve(second.token) != nil)
        await lab.shutdown()
    }

    /// A hung Redis (every client paused, `PING` too) still fails a write fast: one command timeout,
    /// and one more for the `PING` that tells it from a write pause, never the failover budget.
    @Test func aHungRedisFailsAWriteWithinTwoCommandTimeouts() async throws {
        let lab = try PausableRedis(port: 6451)
        let repository = lab.repository(prefix: "hung:")
        let session = Self.newSession()
        _ = try await repository.create(session)
        try await lab.pause(milliseconds: 2500, "ALL")
        let started = ContinuousClock.now
        await #expect(throws: SessionStoreError.self) { try await repository.create(session) }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(240) && elapsed < .milliseconds(1500), "\(elapsed)")
        try await Task.sleep(for: .milliseconds(2600) - elapsed)
        _ = try await repository.create(session)
        await lab.shutdown()
    }

    /// A Redis below the minimum version keeps /readyz at 503 and every session call at 503, never a
    /// half-run create. (The real 7.0 server against a minimum it cannot meet.)
    @Test func anUnsupportedRedisKeepsReadinessDown() async throws {
        var redisConfiguration = try TestRedis.configuration(poolSize: 1)
        redisConfiguration.minimumServerVersion = RedisServerVersion(99, 0)
        let redis = RedisClient(configuration: redisConfiguration, logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        let repository = RedisSessionRepository(redis: redis, layout: KeyLayout(prefix: "old:"), policy: .init(), logger: Logger(label: "test"))
        let router = SessionApplication.makeRouter(
            configuration: SessionServiceConfiguration(),
            repository: repository,
            apiKeys: try APIKeys(parsing: "k sessions:read,sessions:create \(Self.key)"),
            prometheus: nil,
            redis: redis
        )
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            let headers: HTTPFields = [.authorization: "Bearer \(Self.key)", .contentType: "application/json"]
            try await client.execute(uri: "/v1/sessions", method: .post, headers: headers, body: ByteBuffer(string: #"{"user_id":"old"}"#)) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
        #expect(try await TestRedis.client().scanKeys(matching: "old:*").isEmpty)
    }
}
