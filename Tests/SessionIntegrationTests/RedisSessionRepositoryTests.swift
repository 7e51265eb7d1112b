import Foundation
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
@testable import SessionCore
import Testing

/// The Redis path of the session store, against the real `redis-server` from `scripts/test.sh`.
@Suite struct RedisSessionRepositoryTests {
    let prefix: String
    let redis: RedisClient

    init() throws {
        self.prefix = "test-\(UUID().uuidString.prefix(8)):"
        self.redis = try TestRedis.client(poolSize: 2)
    }

    func repository(touchInterval: Int64 = 0, maximumPerUser: Int = 100) -> RedisSessionRepository {
        RedisSessionRepository(
            redis: self.redis,
            layout: KeyLayout(prefix: self.prefix),
            policy: StorePolicy(touchInterval: touchInterval, maximumSessionsPerUser: maximumPerUser),
            logger: Logger(label: "test")
        )
    }

    func newSession(_ user: String = "alice", idle: Int64 = 60_000, absolute: Int64 = 600_000, data: String = #"{"role":"admin"}"#) -> NewSession {
        NewSession(userID: user, dataJSON: Array(data.utf8), metadataJSON: Array(#"{"ip":"127.0.0.1"}"#.utf8), idleTimeout: idle, absoluteTimeout: absolute)
    }

    /// Every key under this test's prefix.
    func keys() async throws -> [String] {
        try await self.redis.scanKeys(matching: "\(self.prefix)*").compactMap(\.string)
    }

    @Test func lifecycleRoundTrips() async throws {
        let repository = self.repository()
        let issued = try await repository.create(self.newSession())
        let resolved = try #require(try await repository.resolve(issued.token))
        #expect(resolved.userID == "alice")
        #expect(resolved.dataJSON == Array(#"{"role":"admin"}"#.utf8))
        #expect(resolved.handle == issued.token.handle)
        let updated = try await repository.update(issued.token, expectedVersion: 1) { _ in Array(#"{"role":"user"}"#.utf8) }
        #expect(updated?.version == 2)
        let rotated = try #require(try await repository.rotate(issued.token))
        #expect(try await repository.resolve(issued.token) == nil)
        #expect(try await repository.resolve(rotated.token)?.dataJSON == Array(#"{"role":"user"}"#.utf8))
        #expect(try await repository.sessions(ofUser: "alice").map(\.handle) == [rotated.token.handle])
        #expect(try await repository.destroy(rotated.token))
        #expect(try await repository.destroy(rotated.token) == false)
        #expect(try await self.keys().isEmpty)
    }

    /// Introspection's read: the live session by handle, never sliding it, nil once it is gone.
    @Test func aLookupByHandleNeitherSlidesNorOutlivesTheSession() async throws {
        let repository = self.repository(touchInterval: 0)
        let issued = try await repository.create(self.newSession(idle: 60_000))
        let first = try #require(try await repository.session(handle: issued.token.handle))
        try await Task.sleep(for: .milliseconds(20))
        let second = try #require(try await repository.session(handle: issued.token.handle))
        #expect(first.lastSeenAt == issued.session.lastSeenAt && second.lastSeenAt == first.lastSeenAt)
        let rotated = try #require(try await repository.rotate(issued.token))
        #expect(try await repository.session(handle: issued.token.handle) == nil)
        #expect(try await repository.session(handle: rotated.token.handle)?.userID == "alice")
        #expect(try await repository.purge(user: "alice", except: nil) == 1)
        #expect(try await repository.session(handle: rotated.token.handle) == nil)
    }

    @Test func idleTimeoutExpiresAnUnusedSessionAndResolvesSlideIt() async throws {
        let repository = self.repository(touchInterval: 0)
        let issued = try await repository.create(self.newSession(idle: 2000, absolute: 20_000))
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(1000))
            #expect(try await repository.resolve(issued.token) != nil)  // each resolve slides the deadline
        }
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await repository.resolve(issued.token) == nil)
        #expect(try await self.redis.exists([RedisArgument(KeyLayout(prefix: self.prefix).sessionKey(issued.token.handle))]) == 0)
    }

    @Test func absoluteTimeoutEndsAnActiveSession() async throws {
        let repository = self.repository(touchInterval: 0)
        let issued = try await repository.create(self.newSession(idle: 2000, absolute: 3000))
        let key = RedisArgument(KeyLayout(prefix: self.prefix).sessionKey(issued.token.handle))
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await repository.resolve(issued.token) != nil)
        // The slide is capped: the key's TTL never passes the absolute deadline.
        let ttl = try await self.redis.pttl(key)
        #expect(ttl > 0 && ttl <= 1500)
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try await repository.resolve(issued.token) == nil)
    }

    @Test func everyKeyHasATTLWithinTheAbsoluteDeadline() async throws {
        let repository = self.repository(maximumPerUser: 5)
        for index in 0..<8 { _ = try await repository.create(self.newSession("user-\(index % 3)", idle: 30_000, absolute: 60_000)) }
        let keys = try await self.keys()
        #expect(keys.count == 8 + 3)
        for key in keys {
            let ttl = try await self.redis.pttl(RedisArgument(key))
            #expect(ttl > 0 && ttl <= 60_000, "\(key) has TTL \(ttl)")
        }
    }

    @Test func resolveTouchesAreThrottled() async throws {
        let repository = self.repository(touchInterval: 60_000)
        let issued = try await repository.create(self.newSession())
        let key = RedisArgument(KeyLayout(prefix: self.prefix).sessionKey(issued.token.handle))
        let before = try await self.redis.get(key)
        try await Task.sleep(for: .milliseconds(20))
        for _ in 0..<10 { _ = try await repository.resolve(issued.token) }
        #expect(try await self.redis.get(key) == before)  // no write within the touch interval
    }

    @Test func nothingAtRestContainsAToken() async throws {
        let repository = self.repository()
        var tokens: [String] = []
        for index in 0..<20 {
            let issued = try await repository.create(self.newSession("user-\(index % 4)"))
            tokens.append(issued.token.value)
            if index % 5 == 0, let rotated = try await repository.rotate(issued.token) { tokens.append(rotated.token.value) }
        }
        var dump = ""
        for key in try await self.keys() {
            dump += key + "\n"
            let type = try await self.redis.send("TYPE", RedisArgument(key)).string
            if type == "string" {
                dump += try await self.redis.get(RedisArgument(key)).map { String(buffer: $0) } ?? ""
            } else {
                dump += try await self.redis.zrange(RedisArgument(key), start: 0, stop: -1).compactMap(\.string).joined(separator: "\n")
            }
        }
        #expect(!dump.isEmpty)
        for token in tokens {
            #expect(!dump.contains(token))
            // Not even the random part alone.
            #expect(!dump.contains(token.dropFirst(SlotTag.length).prefix(16)))
        }
    }

    @Test func evictionRemovesExactlyTheOldest() async throws {
        let repository = self.repository(maximumPerUser: 3)
        var issued: [IssuedSession] = []
        // Several creates within one millisecond must still be ordered.
        for _ in 0..<6 { issued.append(try await repository.create(self.newSession("dave"))) }
        #expect(issued.map(\.evicted) == [0, 0, 0, 1, 1, 1])
        for (index, session) in issued.enumerated() {
            let alive = try await repository.resolve(session.token) != nil
            #expect(alive == (index >= 3), "session \(index)")
        }
        #expect(try await repository.sessions(ofUser: "dave").map(\.handle) == issued[3...].reversed().map(\.token.handle))
    }

    @Test func concurrentResolvesNeverResurrectADestroyedSession() async throws {
        let repository = self.repository(touchInterval: 0)
        for _ in 0..<5 {
            let issued = try await repository.create(self.newSession())
            let destroyedAt = LockedBox<ContinuousClock.Instant?>(nil)
            let lateHits = LockedBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let started = ContinuousClock.now
                        let found = try await repository.resolve(issued.token) != nil
                        let destroyed = destroyedAt.withLock { $0 }
                        // A resolve that began after the destroy was acknowledged must not find the session.
                        if found, let destroyed, destroyed < started { lateHits.withLock { $0 += 1 } }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(1))
                    #expect(try await repository.destroy(issued.token))
                    destroyedAt.withLock { $0 = .now }
                }
                try await group.waitForAll()
            }
            #expect(try await repository.resolve(issued.token) == nil)
            #expect(try await self.keys().filter { $0.contains(":s:") }.isEmpty)
            #expect(lateHits.withLock { $0 } == 0)
        }
    }

    @Test func purgeDestroysEverySessionCreatedBeforeIt() async throws {
        let repository = self.repository()
        let acknowledged = LockedBox<[(SessionToken, ContinuousClock.Instant)]>([])
        let purgeStarted = LockedBox<ContinuousClock.Instant?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    for _ in 0..<20 {
                        let issued = try await repository.create(self.newSession("erin"))
                        acknowledged.withLock { $0.append((issued.token, .now)) }
                    }
                }
            }
            group.addTask {
                // Purge once some creates have been acknowledged and while more are in flight.
                while acknowledged.withLock({ $0.count }) < 30 { try await Task.sleep(for: .milliseconds(1)) }
                purgeStarted.withLock { $0 = .now }
                _ = try await repository.purge(user: "erin", except: nil)
            }
            try await group.waitForAll()
        }
        let start = try #require(purgeStarted.withLock { $0 })
        let before = acknowledged.withLock { $0 }.filter { $0.1 < start }
        #expect(!before.isEmpty)
        for (token, _) in before {
            #expect(try await repository.resolve(token) == nil)
        }
        // The index knows exactly the survivors.
        var alive = Set<SessionHandle>()
        for (token, _) in acknowledged.withLock({ $0 }) where try await repository.resolve(token) != nil {
            alive.insert(token.handle)
        }
        #expect(Set(try await repository.sessions(ofUser: "erin").map(\.handle)) == alive)
        #expect(try await repository.purge(user: "erin", except: nil) == alive.count)
    }

    @Test func corruptRecordsReadAsAbsent() async throws {
        let repository = self.repository()
        let layout = KeyLayout(prefix: self.prefix)
        let corruptions: [[UInt8]] = [
            Array("garbage".utf8),
            Array("S9".utf8) + Array(repeating: 48, count: 120),
            [],
            Array(repeating: 0xFF, count: 300),
        ]
        for bytes in corruptions {
            let issued = try await repository.create(self.newSession())
            let key = RedisArgument(layout.sessionKey(issued.token.handle))
            try await self.redis.send("SET", key, RedisArgument(bytes: bytes), "KEEPTTL")
            #expect(try await repository.resolve(issued.token) == nil)
            #expect(try await repository.update(issued.token, expectedVersion: nil) { _ in Array("{}".utf8) } == nil)
        }
        // Truncated record.
        let issued = try await repository.create(self.newSession())
        let key = RedisArgument(layout.sessionKey(issued.token.handle))
        let whole = try #require(try await self.redis.get(key))
        try await self.redis.send("SET", key, RedisArgument(bytes: Array(whole.readableBytesView.dropLast(3))), "KEEPTTL")
        #expect(try await repository.resolve(issued.token) == nil)
    }

    /// A record key holding a hash, list, set or sorted set (another tool, a botched migration) is a
    /// corrupt record for every operation: absent, never 503, and left alone.
    @Test(arguments: ["hash", "list", "set", "zset"])
    func recordKeysOfAnotherTypeReadAsAbsentEverywhere(type: String) async throws {
        let repository = self.repository(touchInterval: 0)
        let layout = KeyLayout(prefix: self.prefix)
        let user = "wrongtype-\(type)"
        let issued = try await repository.create(self.newSession(user))
        let key = RedisArgument(layout.sessionKey(issued.token.handle))
        try await self.redis.delete([key])
        switch type {
        case "hash": try await self.redis.send("HSET", key, "field", "value")
        case "list": try await self.redis.send("RPUSH", key, "value")
        case "set": try await self.redis.send("SADD", key, "value")
        default: try await self.redis.send("ZADD", key, "1", "value")
        }
        #expect(try await repository.resolve(issued.token) == nil)
        #expect(try await repository.update(issued.token, expectedVersion: nil) { _ in Array("{}".utf8) } == nil)
        #expect(try await repository.rotate(issued.token) == nil)
        #expect(try await repository.destroy(issued.token) == false)
        #expect(try await repository.destroy(handle: issued.token.handle) == false)
        #expect(try await repository.sessions(ofUser: user).isEmpty)
        // The other sessions of the user are unaffected, and purge still reaches everything.
        let sibling = try await repository.create(self.newSession(user))
        #expect(try await repository.sessions(ofUser: user).map(\.handle) == [sibling.token.handle])
        #expect(try await repository.purge(user: user, except: nil) >= 1)
        #expect(try await repository.resolve(sibling.token) == nil)
        try await self.redis.delete([key])
    }

    /// A user index of another type does not lock the user out: create replaces it, list reads it as
    /// empty, purge removes it; every key still expires.
    @Test func userIndexOfAnotherTypeIsReplaced() async throws {
        let repository = self.repository()
        let layout = KeyLayout(prefix: self.prefix)
        let index = RedisArgument(layout.userIndexKey(userID: "indexless"))
        try await self.redis.send("HSET", index, "field", "value")
        #expect(try await repository.sessions(ofUser: "indexless").isEmpty)
        #expect(try await repository.purge(user: "indexless", except: nil) == 0)
        try await self.redis.send("HSET", index, "field", "value")
        let issued = try await repository.create(self.newSession("indexless"))
        #expect(try await repository.sessions(ofUser: "indexless").map(\.handle) == [issued.token.handle])
        #expect(try await self.redis.pttl(index) > 0)
        let rotated = try #require(try await repository.rotate(issued.token))
        try await self.redis.send("DEL", index)
        try await self.redis.send("RPUSH", index, "x")
        let again = try #require(try await repository.rotate(rotated.token))
        #expect(try await repository.sessions(ofUser: "indexless").map(\.handle) == [again.token.handle])
        #expect(try await self.redis.pttl(index) > 0)
        #expect(try await repository.purge(user: "indexless", except: nil) == 1)
    }

    /// A session whose idle timeout is at or below the touch interval still slides: used more often
    /// than its idle timeout, it lives to its absolute deadline.
    @Test func shortIdleTimeoutsSlideWithTheDefaultTouchInterval() async throws {
        let repository = self.repository(touchInterval: 60_000)
        let issued = try await repository.create(self.newSession(idle: 2000, absolute: 6000))
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(4500) {
            #expect(try await repository.resolve(issued.token) != nil, "died in use after \(ContinuousClock.now - start)")
            try await Task.sleep(for: .milliseconds(500))
        }
        // Unused for longer than its idle timeout, it ends.
        try await Task.sleep(for: .milliseconds(2600))
        #expect(try await repository.resolve(issued.token) == nil)
    }

    /// A due touch rewrites the 6 bytes of last_seen_at and the TTL, not the record: nothing else in
    /// the stored bytes changes.
    @Test func aTouchRewritesOnlyTheTimestamp() async throws {
        let repository = self.repository(touchInterval: 0)
        let big = #"{"blob":""# + String(repeating: "x", count: 8000) + #""}"#
        let issued = try await repository.create(self.newSession(data: big))
        let key = RedisArgument(KeyLayout(prefix: self.prefix).sessionKey(issued.token.handle))
        let before = Array(try #require(try await self.redis.get(key)).readableBytesView)
        try await Task.sleep(for: .milliseconds(20))
        let touched = try #require(try await repository.resolve(issued.token))
        let after = Array(try #require(try await self.redis.get(key)).readableBytesView)
        #expect(touched.lastSeenAt > issued.session.lastSeenAt)
        #expect(after.count == before.count)
        let changed = (0..<after.count).filter { after[$0] != before[$0] }
        #expect(changed.allSatisfy { (SessionRecordCodec.lastSeenOffset..<SessionRecordCodec.lastSeenOffset + 6).contains($0) })
        #expect(!changed.isEmpty)
    }

    /// A create or rotate whose outcome was lost (timeout, failover) can be sent again: the second
    /// send answers like the first and changes nothing.
    @Test func createAndRotateScriptsAreSafeToSendTwice() async throws {
        let layout = KeyLayout(prefix: self.prefix)
        let token = SessionToken.generate(for: "twice")
        let tail = SessionRecordCodec.tail(version: 1, userIDJSON: Array(#""twice""#.utf8), metadataJSON: Array("{}".utf8), dataJSON: Array("{}".utf8))
        let keys = [RedisArgument(layout.sessionKey(token.handle)), RedisArgument(layout.userIndexKey(userID: "twice"))]
        let arguments = [
            RedisArgument(bytes: tail), RedisArgument(60_000), RedisArgument(600_000), RedisArgument(100),
            RedisArgument(String(token.handle.digest)), RedisArgument(layout.sessionKeyPrefix(token.slotTag)),
        ]
        let first = try await self.redis.evaluate(SessionScripts.create, keys: keys, arguments: arguments)
        let second = try await self.redis.evaluate(SessionScripts.create, keys: keys, arguments: arguments)
        #expect(first.array?.first == second.array?.first)
        #expect(try await self.redis.send("ZCARD", keys[1]).int == 1)
        // A different tail under the same key is a collision, not a resend.
        var other = arguments
        other[0] = RedisArgument(bytes: SessionRecordCodec.tail(version: 1, userIDJSON: Array(#""twice""#.utf8), metadataJSON: Array("{}".utf8), dataJSON: Array(#"{"x":1}"#.utf8)))
        await #expect(throws: RedisServerError.self) { try await self.redis.evaluate(SessionScripts.create, keys: keys, arguments: other) }

        let next = SessionToken.generate(replacing: token)
        let rotateKeys = [RedisArgument(layout.sessionKey(token.handle)), RedisArgument(layout.sessionKey(next.handle))]
        let rotateArguments = [RedisArgument(layout.userIndexKeyPrefix(token.slotTag)), RedisArgument(String(token.handle.digest)), RedisArgument(String(next.handle.digest))]
        let rotated = try await self.redis.evaluate(SessionScripts.rotate, keys: rotateKeys, arguments: rotateArguments)
        let again = try await self.redis.evaluate(SessionScripts.rotate, keys: rotateKeys, arguments: rotateArguments)
        #expect(rotated.bytes != nil && rotated.bytes == again.bytes)
        #expect(try await self.redis.send("ZRANGE", keys[1], "0", "-1").array?.compactMap(\.string) == [String(next.handle.digest)])
        #expect(try await self.repository().resolve(next) != nil)
    }

    @Test func scriptsSurviveAScriptCacheFlush() async throws {
        let repository = self.repository()
        try await self.redis.send("SCRIPT", "FLUSH")
        let issued = try await repository.create(self.newSession())
        try await self.redis.send("SCRIPT", "FLUSH")
        #expect(try await repository.resolve(issued.token) != nil)
    }
}

/// The OAuth state in Redis: counters with a window, revocations with the token's remaining lifetime.
@Suite struct RedisOAuthStateStoreTests {
    @Test func countersAndRevocationsExpireAndNameNoClient() async throws {
        let redis = try TestRedis.client()
        let prefix = "oauth-\(UUID().uuidString.prefix(8)):"
        let store = RedisOAuthStateStore(redis: redis, prefix: prefix)
        #expect(try await store.failures(of: "c:someone").count == 0)
        for expected in 1...3 {
            let (count, remaining) = try await store.recordFailure(of: "c:someone", window: 60_000)
            #expect(count == expected && remaining > 59_000 && remaining <= 60_000)
        }
        #expect(try await store.failures(of: "c:someone").count == 3)
        #expect(try await store.failures(of: "c:someone-else").count == 0)
        // A short window ends and the count starts over.
        _ = try await store.recordFailure(of: "a:192.0.2.1", window: 50)
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await store.failures(of: "a:192.0.2.1").count == 0)
        #expect(try await store.recordFailure(of: "a:192.0.2.1", window: 60_000).count == 1)
        try await store.revoke(tokenID: "jti-1", ttl: 30_000)
        #expect(try await store.isRevoked(tokenID: "jti-1"))
        #expect(try await store.isRevoked(tokenID: "jti-2") == false)
        let keys = try await redis.scanKeys(matching: "\(prefix)*").compactMap(\.string)
        #expect(keys.count == 3)
        for key in keys {
            #expect(!key.contains("someone") && !key.contains("192.0.2.1"))
            let ttl = try await redis.send(RedisCommand("PTTL", RedisArgument(key))).int ?? -1
            #expect(ttl > 0 && ttl <= 60_000, "\(key)")
        }
        await redis.shutdown()
    }
}

/// The in-memory deny-list of revoked client tokens, kept current over pub/sub between two
/// "replicas" (two stores over the test Redis).
@Suite struct RevocationCacheTests {
    @Test func aRevocationOnOneReplicaIsSeenByTheOtherFromMemoryAtOnce() async throws {
        let prefix = "revocation-\(UUID().uuidString.prefix(8)):"
        let redisA = try TestRedis.client()
        let redisB = try TestRedis.client()
        let replicaA = RedisOAuthStateStore(redis: redisA, prefix: prefix)
        let replicaB = RedisOAuthStateStore(redis: redisB, prefix: prefix)
        // Revoked before B starts watching: loaded when it subscribes.
        try await replicaA.revoke(tokenID: "early", ttl: 60_000)
        #expect(replicaB.isCacheHealthy == false)
        #expect(try await replicaB.isRevoked(tokenID: "early"))  // from Redis meanwhile
        let watchA = Task { await replicaA.maintainRevocationCache() }
        let watchB = Task { await replicaB.maintainRevocationCache() }
        let deadline = ContinuousClock.now + .seconds(5)
        while !(replicaA.isCacheHealthy && replicaB.isCacheHealthy), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(replicaA.isCacheHealthy && replicaB.isCacheHealthy)
        #expect(try await replicaB.isRevoked(tokenID: "early"))
        for index in 0..<20 {
            #expect(try await replicaB.isRevoked(tokenID: "jti-\(index)") == false)
            try await replicaA.revoke(tokenID: "jti-\(index)", ttl: 60_000)
            // Answered from B's memory the moment A's revoke returns.
            #expect(try await replicaB.isRevoked(tokenID: "jti-\(index)"), "jti-\(index)")
        }
        // A short-lived revocation ends with the token's lifetime, in memory and in Redis.
        try await replicaA.revoke(tokenID: "brief", ttl: 100)
        #expect(try await replicaB.isRevoked(tokenID: "brief"))
        try await Task.sleep(for: .milliseconds(250))
        #expect(try await replicaB.isRevoked(tokenID: "brief") == false)
        // B stops watching: it is no longer trusted from memory and asks Redis, still right.
        watchB.cancel()
        await watchB.value
        #expect(replicaB.isCacheHealthy == false)
        try await replicaA.revoke(tokenID: "late", ttl: 60_000)
        #expect(try await replicaB.isRevoked(tokenID: "late"))
        watchA.cancel()
        await watchA.value
        await redisA.shutdown()
        await redisB.shutdown()
    }
}
