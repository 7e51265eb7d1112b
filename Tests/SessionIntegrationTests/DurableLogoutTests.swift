import Foundation
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import Testing

/// Durable logout over the loopback Sentinel set-up (a primary with two replicas): destroy, purge and
/// rotate wait for a replica; with the replicas frozen, `strict` answers "unavailable" and
/// `best-effort` answers as usual.
@Suite(.serialized) struct DurableLogoutTests {
    func repository(_ redis: RedisClient, mode: RevocationPolicy.Mode, replicas: Int? = nil) -> RedisSessionRepository {
        var policy = StorePolicy()
        policy.revocation = RevocationPolicy(replicas: replicas, timeout: 100, mode: mode)
        return RedisSessionRepository(redis: redis, layout: KeyLayout(prefix: "durable-\(UUID().uuidString.prefix(6)):"), policy: policy, logger: Logger(label: "test"))
    }

    func session(_ user: String) -> NewSession {
        NewSession(userID: user, dataJSON: Array("{}".utf8), metadataJSON: Array("{}".utf8), idleTimeout: 60_000, absoluteTimeout: 600_000)
    }

    /// The replicas' pids (scripts/redis-lab.sh writes them under .run/lab/sentinel).
    static func replicaPIDs() throws -> [Int32] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try ["6481", "6482"].map { port in
            let text = try String(contentsOf: root.appendingPathComponent(".run/lab/sentinel/\(port)/redis.pid"), encoding: .utf8)
            return try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    @Test func logoutsWaitForAReplicaAndStrictRefusesWithoutOne() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: try TestSentinel.url), logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        let strict = self.repository(redis, mode: .strict)
        let relaxed = self.repository(redis, mode: .bestEffort)
        // Replicas up: every logout is acknowledged.
        let first = try await strict.create(self.session("durable"))
        #expect(try await strict.destroy(first.token))
        let second = try await strict.create(self.session("durable"))
        #expect(try await strict.rotate(second.token) != nil)
        #expect(try await strict.purge(user: "durable", except: nil) == 1)

        // Replicas frozen: WAIT times out with no acknowledgement.
        let third = try await strict.create(self.session("durable-2"))
        let fourth = try await relaxed.create(self.session("durable-3"))
        let pids = try Self.replicaPIDs()
        for pid in pids { kill(pid, SIGSTOP) }
        defer { for pid in pids { kill(pid, SIGCONT) } }
        let started = ContinuousClock.now
        await #expect(throws: SessionStoreError.self) { try await strict.destroy(third.token) }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try await relaxed.destroy(fourth.token))  // best effort: answered as usual
        for pid in pids { kill(pid, SIGCONT) }
        // The strict destroy did run on the primary; a retry (logout is idempotent) is acknowledged.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await strict.destroy(third.token) == false)
        #expect(try await strict.resolve(third.token) == nil)
    }

    /// On a lone node (no replicas) `auto` waits for nobody.
    @Test func aLoneNodeWaitsForNobody() async throws {
        let redis = try TestRedis.client()
        defer { Task { await redis.shutdown() } }
        let strict = self.repository(redis, mode: .strict)
        let issued = try await strict.create(self.session("lone"))
        #expect(try await strict.destroy(issued.token))
    }
}
