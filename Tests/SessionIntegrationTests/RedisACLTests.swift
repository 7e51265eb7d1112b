import Foundation
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import Testing

/// The Redis of docker-compose.yml, started by the same script (deploy/redis-start.sh) with the same
/// ACL rules: sessiond's user can do everything sessiond does and nothing else.
@Suite struct RedisACLTests {
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    @Test func sessiondsACLUserCoversEveryOperationAndNoMore() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-acl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let passwordFile = directory.appendingPathComponent("redis-password")
        let password = "acl-" + UUID().uuidString
        try (password + "\n").write(to: passwordFile, atomically: true, encoding: .utf8)
        let server = try RedisProcess(
            port: 6447,
            launcher: [Self.root.appendingPathComponent("deploy/redis-start.sh").path],
            environment: [
                "REDIS_PASSWORD_FILE": passwordFile.path,
                "REDIS_ACL_RULES": Self.root.appendingPathComponent("deploy/redis-acl-rules").path,
                "REDIS_ACL_DIR": directory.path,
            ]
        )
        // No password in the ACL file, only its hash.
        let acl = try String(contentsOf: directory.appendingPathComponent("users.acl"), encoding: .utf8)
        #expect(!acl.contains(password))

        var configuration = try RedisConfiguration(url: "redis://sessiond:\(password)@127.0.0.1:6447")
        configuration.clientName = "sessiond"
        configuration.minimumServerVersion = RedisSessionRepository.minimumServerVersion
        let redis = RedisClient(configuration: configuration, logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        let repository = RedisSessionRepository(
            redis: redis,
            layout: KeyLayout(prefix: "sessiond:"),
            policy: StorePolicy(touchInterval: 0, maximumSessionsPerUser: 2),
            logger: Logger(label: "test")
        )
        try await repository.loadScripts()
        try await repository.ping()
        func new() -> NewSession {
            NewSession(userID: "acl-user", dataJSON: Array("{}".utf8), metadataJSON: Array("{}".utf8), idleTimeout: 60_000, absoluteTimeout: 600_000)
        }
        let first = try await repository.create(new())
        let second = try await repository.create(new())
        let third = try await repository.create(new())  // evicts the first
        #expect(third.evicted == 1)
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await repository.resolve(second.token) != nil)  // with a touch
        #expect(try await repository.update(second.token, expectedVersion: 1) { _ in Array(#"{"a":1}"#.utf8) }?.version == 2)
        let rotated = try #require(try await repository.rotate(second.token))
        #expect(try await repository.sessions(ofUser: "acl-user").count == 2)
        #expect(try await repository.destroy(handle: third.token.handle))
        #expect(try await repository.purge(user: "acl-user", except: nil) == 1)
        #expect(try await repository.resolve(rotated.token) == nil)
        #expect(try await repository.resolve(first.token) == nil)
        // The OAuth state (brute-force counters, revoked tokens) under the same user.
        let oauth = RedisOAuthStateStore(redis: redis, prefix: "sessiond:")
        #expect(try await oauth.recordFailure(of: "c:acl-client", window: 60_000).count == 1)
        #expect(try await oauth.failures(of: "c:acl-client").count == 1)
        try await oauth.revoke(tokenID: "acl-jti", ttl: 60_000)
        #expect(try await oauth.isRevoked(tokenID: "acl-jti"))
        // The revocation cache's channel, SCAN, PUBLISH and SUBSCRIBE are allowed too.
        let watcher = Task { await oauth.maintainRevocationCache() }
        let deadline = ContinuousClock.now + .seconds(5)
        while !oauth.isCacheHealthy, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(oauth.isCacheHealthy)
        #expect(try await oauth.isRevoked(tokenID: "acl-jti"))
        watcher.cancel()
        await watcher.value

        // And nothing beyond: other keys, dangerous commands and the default user are refused.
        for command in [RedisCommand("GET", "other:key"), RedisCommand("FLUSHALL"), RedisCommand("KEYS", "*"), RedisCommand("CONFIG", "GET", "*")] {
            await #expect {
                try await redis.send(command)
            } throws: { error in
                (error as? RedisServerError)?.kind == .noPermission
            }
        }
        let anonymous = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6447"), logger: Logger(label: "test"))
        defer { Task { await anonymous.shutdown() } }
        await #expect(throws: (any Error).self) { try await anonymous.send("GET", "sessiond:x") }
        _ = server
    }
}
