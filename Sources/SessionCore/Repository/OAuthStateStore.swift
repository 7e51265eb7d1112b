import Crypto
import Foundation
import RedisWire
import Synchronization

/// The little state OAuth client credentials need, shared by every replica: failed-authentication
/// counters (brute-force protection) and the deny-list of revoked access tokens. Every entry expires.
public protocol OAuthStateStore: Sendable {
    /// The failures counted for `subject` in its current window, and the window's remaining ms.
    func failures(of subject: String) async throws -> (count: Int, remaining: Int64)
    /// Counts one failure for `subject`; a new window of `window` ms starts with the first one.
    /// Returns the count and the window's remaining ms.
    @discardableResult
    func recordFailure(of subject: String, window: Int64) async throws -> (count: Int, remaining: Int64)
    /// Denies the token `tokenID` for `ttl` ms (its remaining lifetime, and nothing more).
    func revoke(tokenID: String, ttl: Int64) async throws
    /// Whether the token `tokenID` was revoked.
    func isRevoked(tokenID: String) async throws -> Bool
}

/// ``OAuthStateStore`` in Redis: `<prefix>oauth:f:<hash of the subject>` (a counter with the window's
/// TTL) and `<prefix>oauth:r:<jti>` (present while revoked, TTL = the token's remaining lifetime).
/// Each operation touches one key (one hash slot), so it works the same on a Cluster.
public struct RedisOAuthStateStore: OAuthStateStore {
    private let redis: RedisClient
    private let prefix: String

    /// A store over `redis` under `prefix`.
    public init(redis: RedisClient, prefix: String) {
        self.redis = redis
        self.prefix = prefix
    }

    static let count = RedisScript(
        """
        local n = redis.call('GET', KEYS[1])
        if not n then return {0, 0} end
        return {tonumber(n), redis.call('PTTL', KEYS[1])}
        """
    )

    static let increment = RedisScript(
        """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return {n, redis.call('PTTL', KEYS[1])}
        """
    )

    /// The counter key of a subject: hashed, so that neither client names nor addresses appear in keys.
    func failureKey(_ subject: String) -> String {
        let digest = SHA256.hash(data: Array(subject.utf8))
        return self.prefix + "oauth:f:" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    public func failures(of subject: String) async throws -> (count: Int, remaining: Int64) {
        let reply = try await RedisSessionRepository.run {
            try await self.redis.evaluate(Self.count, keys: [RedisArgument(self.failureKey(subject))], arguments: [])
        }
        return try Self.pair(reply)
    }

    public func recordFailure(of subject: String, window: Int64) async throws -> (count: Int, remaining: Int64) {
        // Not resent on a dropped connection: a doubled count only shortens an attacker's budget.
        let reply = try await RedisSessionRepository.run(resend: false) {
            try await self.redis.evaluate(Self.increment, keys: [RedisArgument(self.failureKey(subject))], arguments: [RedisArgument(window)])
        }
        return try Self.pair(reply)
    }

    public func revoke(tokenID: String, ttl: Int64) async throws {
        _ = try await RedisSessionRepository.run {
            try await self.redis.send(RedisCommand("SET", RedisArgument(self.prefix + "oauth:r:" + tokenID), "1", "PX", RedisArgument(max(1, ttl))))
        }
    }

    public func isRevoked(tokenID: String) async throws -> Bool {
        let reply = try await RedisSessionRepository.run {
            try await self.redis.send(RedisCommand("EXISTS", RedisArgument(self.prefix + "oauth:r:" + tokenID)))
        }
        return reply.int == 1
    }

    private static func pair(_ reply: RESPValue) throws -> (count: Int, remaining: Int64) {
        guard let parts = reply.array, parts.count == 2, let count = parts[0].int, let remaining = parts[1].int else {
            throw SessionStoreError.unavailable("unexpected reply from the OAuth counter script")
        }
        return (count, Int64(max(0, remaining)))
    }
}

/// ``OAuthStateStore`` in this process (`--store memory` and unit tests).
public final class InMemoryOAuthStateStore: OAuthStateStore {
    private struct State {
        var counters: [String: (count: Int, until: Int64)] = [:]
        var revoked: [String: Int64] = [:]
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Int64

    /// A store using `clock` (Unix ms).
    public init(clock: @escaping @Sendable () -> Int64 = { WallClock.milliseconds() }) {
        self.clock = clock
    }

    public func failures(of subject: String) async throws -> (count: Int, remaining: Int64) {
        let now = self.clock()
        return self.state.withLock { state in
            guard let counter = state.counters[subject], counter.until > now else { return (0, 0) }
            return (counter.count, counter.until - now)
        }
    }

    public func recordFailure(of subject: String, window: Int64) async throws -> (count: Int, remaining: Int64) {
        let now = self.clock()
        return self.state.withLock { state in
            var counter = state.counters[subject] ?? (0, now + window)
            if counter.until <= now { counter = (0, now + window) }
            counter.count += 1
            state.counters[subject] = counter
            if state.counters.count > 100_000 { state.counters = state.counters.filter { $0.value.until > now } }
            return (counter.count, counter.until - now)
        }
    }

    public func revoke(tokenID: String, ttl: Int64) async throws {
        let now = self.clock()
        self.state.withLock { state in
            state.revoked[tokenID] = now + ttl
            if state.revoked.count > 100_000 { state.revoked = state.revoked.filter { $0.value > now } }
        }
    }

    public func isRevoked(tokenID: String) async throws -> Bool {
        let now = self.clock()
        return self.state.withLock { ($0.revoked[tokenID] ?? 0) > now }
    }
}
