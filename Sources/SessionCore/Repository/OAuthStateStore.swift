import Crypto
import SessionTokens
import Foundation
import Logging
import NIOCore
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
///
/// **Revocations without a Redis call per request.** Every replica keeps the deny-list in memory:
/// ``maintainRevocationCache()`` subscribes to `<prefix>oauth:revocations`, loads the existing
/// entries (`SCAN`), and publishes a heartbeat naming itself every second. ``isRevoked(tokenID:)``
/// answers from memory while the replica's cache is healthy — subscribed, loaded, and its *own*
/// heartbeat came back within ``staleAfter`` (so both its publishing and its subscription work) —
/// and asks Redis (`EXISTS`) otherwise: a lost subscription costs speed, never correctness.
///
/// ``revoke(tokenID:ttl:)`` writes the key, publishes the `jti`, and answers only when every replica
/// heard within ``peerWindow`` has acknowledged it (each publishes an ack after adding the entry to
/// its memory), so the revocation is in force on every replica when the call returns. A replica
/// healthy by its own measure has had its heartbeat delivered within ``staleAfter`` <
/// ``peerWindow``, so it is always waited for. No acknowledgement within ``acknowledgementTimeout``
/// is a 503 (the key is written: replicas asking Redis see it; the caller retries).
public final class RedisOAuthStateStore: OAuthStateStore {
    private let redis: RedisClient
    private let prefix: String
    private let channel: String
    private let cache = Mutex(RevocationCache())
    private let subscription = Mutex<RedisSubscription?>(nil)
    private let logger: Logger?

    /// A heartbeat is published this often.
    public static let heartbeatInterval = Duration.seconds(1)
    /// Without its own heartbeat back for this long a replica does not trust its cache (and renews
    /// the subscription).
    public static let staleAfter = Duration.seconds(3)
    /// A revocation waits for the acknowledgements of the replicas heard within this window.
    public static let peerWindow = Duration.milliseconds(3500)
    /// How long a revocation waits for them.
    public static let acknowledgementTimeout = Duration.seconds(1)

    /// This replica's name on the channel.
    let replicaID = SHA256.hash(data: SecureRandom.bytes(16)).prefix(8).map { String(format: "%02x", $0) }.joined()

    struct RevocationCache {
        var revoked: [String: Int64] = [:]
        var subscribed = false
        var loaded = false
        /// When this replica's own heartbeat last came back, and how many have since it subscribed.
        var ownHeartbeat: ContinuousClock.Instant? = nil
        var ownHeartbeats = 0
        /// Replicas by name, when each was last heard.
        var peers: [String: ContinuousClock.Instant] = [:]
        /// Per `jti` being revoked here: the replicas that acknowledged it.
        var acknowledgements: [String: Set<String>] = [:]

        func isHealthy(at now: ContinuousClock.Instant) -> Bool {
            // Two of its own heartbeats back: every other replica has heard of it (from the first) by
            // now, so their revocations wait for its acknowledgement.
            guard self.subscribed, self.loaded, self.ownHeartbeats >= 2, let ownHeartbeat else { return false }
            return ownHeartbeat.duration(to: now) < RedisOAuthStateStore.staleAfter
        }

        mutating func insert(_ tokenID: String, until expiresAt: Int64, now: Int64) {
            self.revoked[tokenID] = max(expiresAt, self.revoked[tokenID] ?? 0)
            if self.revoked.count > 100_000 { self.revoked = self.revoked.filter { $0.value > now } }
        }
    }

    /// A store over `redis` under `prefix`; `logger` hears when the revocation cache comes and goes.
    public init(redis: RedisClient, prefix: String, logger: Logger? = nil) {
        self.redis = redis
        self.prefix = prefix
        self.channel = prefix + "oauth:revocations"
        self.logger = logger
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

    func revokedKey(_ tokenID: String) -> String { self.prefix + "oauth:r:" + tokenID }

    /// Whether revocations are answered from memory right now (tests, metrics).
    public var isCacheHealthy: Bool { self.cache.withLock { $0.isHealthy(at: .now) } }

    public func failures(of subject: String) async throws -> (count: Int, remaining: Int64) {
        let reply = try await RedisSessionRepository.run {
            try await self.redis.evaluate(Self.count, keys: [RedisArgument(self.failureKey(subject))], arguments: [])
        }
        return try Self.pair(reply)
    }

    @discardableResult
    public func recordFailure(of subject: String, window: Int64) async throws -> (count: Int, remaining: Int64) {
        // Not resent on a dropped connection: a doubled count only shortens an attacker's budget.
        let reply = try await RedisSessionRepository.run(resend: false) {
            try await self.redis.evaluate(Self.increment, keys: [RedisArgument(self.failureKey(subject))], arguments: [RedisArgument(window)])
        }
        return try Self.pair(reply)
    }

    public func revoke(tokenID: String, ttl: Int64) async throws {
        let ttl = max(1, ttl)
        _ = try await RedisSessionRepository.run {
            try await self.redis.send(RedisCommand("SET", RedisArgument(self.revokedKey(tokenID)), "1", "PX", RedisArgument(ttl)))
        }
        let now = WallClock.milliseconds()
        let (healthy, peers) = self.cache.withLock { cache in
            cache.insert(tokenID, until: now + ttl, now: now)
            let instant = ContinuousClock.now
            let peers = Set(cache.peers.filter { $0.key != self.replicaID && $0.value.duration(to: instant) < Self.peerWindow }.keys)
            cache.acknowledgements[tokenID] = []
            return (cache.isHealthy(at: instant), peers)
        }
        defer { self.cache.withLock { _ = $0.acknowledgements.removeValue(forKey: tokenID) } }
        // Replicas answering from memory learn it from this message: if it cannot be sent the
        // revocation is not confirmed (503; the caller retries, and revoking is idempotent).
        _ = try await RedisSessionRepository.run {
            try await self.redis.publish(RedisArgument("r \(tokenID) \(ttl) \(self.replicaID)"), to: self.channel)
        }
        guard healthy else {
            // Without a working subscription this replica cannot hear acknowledgements: give the
            // others the time a delivery takes (replicas in the same state ask Redis anyway).
            try await Task.sleep(for: .milliseconds(100))
            return
        }
        let deadline = ContinuousClock.now + Self.acknowledgementTimeout
        while ContinuousClock.now < deadline {
            // A replica that said goodbye meanwhile is not waited for.
            if self.cache.withLock({ cache in peers.filter { cache.peers[$0] != nil }.allSatisfy { cache.acknowledgements[tokenID]?.contains($0) ?? false } }) {
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw SessionStoreError.unavailable("not every sessiond replica acknowledged the revocation in time")
    }

    public func isRevoked(tokenID: String) async throws -> Bool {
        let now = WallClock.milliseconds()
        let cached = self.cache.withLock { cache -> Bool? in
            guard cache.isHealthy(at: .now) else { return nil }
            return (cache.revoked[tokenID] ?? 0) > now
        }
        if let cached { return cached }
        let reply = try await RedisSessionRepository.run {
            try await self.redis.read(RedisCommand("EXISTS", RedisArgument(self.revokedKey(tokenID))))
        }
        return reply.int == 1
    }

    /// Keeps the in-memory deny-list current until the task is cancelled (sessiond runs it as a
    /// service): a subscription renewed whenever it ends or goes quiet, the entries loaded after each
    /// (re)subscription, and a heartbeat every second.
    public func maintainRevocationCache() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.heartbeats() }
            group.addTask { await self.subscriptions() }
            await group.next()
            group.cancelAll()
        }
        // Goodbye: the other replicas stop waiting for this one's acknowledgements at once.
        _ = try? await self.redis.publish(RedisArgument("x \(self.replicaID)"), to: self.channel)
        let subscription = self.subscription.withLock { current in
            defer { current = nil }
            return current
        }
        await subscription?.close()
    }

    private func heartbeats() async {
        while !Task.isCancelled {
            _ = try? await self.redis.publish(RedisArgument("h \(self.replicaID)"), to: self.channel)
            let stale = self.cache.withLock { cache in
                cache.subscribed && cache.loaded && (cache.ownHeartbeat.map { $0.duration(to: .now) >= Self.staleAfter } ?? false)
            }
            if stale {
                // Subscribed, yet not even our own heartbeats arrive: renew the subscription.
                let subscription = self.subscription.withLock { $0 }
                await subscription?.close()
            }
            try? await Task.sleep(for: Self.heartbeatInterval)
        }
    }

    private func subscriptions() async {
        while !Task.isCancelled {
            do {
                let subscription = try await self.redis.subscribe(to: [self.channel])
                self.subscription.withLock { $0 = subscription }
                self.cache.withLock { cache in
                    cache.subscribed = true
                    cache.loaded = false
                    cache.ownHeartbeat = nil
                    cache.ownHeartbeats = 0
                }
                // Entries written before the subscription: loaded after it, so none falls in between.
                let keys = try await self.redis.scanKeys(matching: self.prefix + "oauth:r:*").compactMap(\.string)
                for key in keys {
                    let remaining = try await self.redis.send(RedisCommand("PTTL", RedisArgument(key))).int ?? -2
                    guard remaining > 0 else { continue }
                    let now = WallClock.milliseconds()
                    self.cache.withLock { $0.insert(String(key.dropFirst(self.prefix.count + "oauth:r:".count)), until: now + Int64(remaining), now: now) }
                }
                self.cache.withLock { $0.loaded = true }
                self.logger?.notice("revocation cache subscribed", metadata: ["revocations.loaded": "\(keys.count)"])
                for await message in subscription {
                    if let acknowledgement = self.receive(message.payload) {
                        _ = try? await self.redis.publish(RedisArgument(acknowledgement), to: self.channel)
                    }
                }
                await subscription.close()
                if !Task.isCancelled {
                    self.logger?.warning("revocation cache subscription lost; revocations are checked in Redis per request until it is back")
                }
            } catch {
                // Not subscribed: isRevoked asks Redis until the next attempt succeeds.
            }
            self.cache.withLock { cache in
                cache.subscribed = false
                cache.loaded = false
            }
            self.subscription.withLock { $0 = nil }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Applies one message; returns the acknowledgement to publish for another replica's revocation.
    private func receive(_ payload: ByteBuffer) -> String? {
        let parts = String(buffer: payload).split(separator: " ")
        let now = WallClock.milliseconds()
        return self.cache.withLock { cache -> String? in
            switch (parts.first, parts.count) {
            case ("h", 2):
                let replica = String(parts[1])
                cache.peers[replica] = .now
                if replica == self.replicaID {
                    cache.ownHeartbeat = .now
                    cache.ownHeartbeats += 1
                }
                if cache.peers.count > 1000 { cache.peers = cache.peers.filter { $0.value.duration(to: .now) < Self.peerWindow } }
                return nil
            case ("r", 4):
                guard let ttl = Int64(parts[2]) else { return nil }
                let tokenID = String(parts[1])
                cache.insert(tokenID, until: now + ttl, now: now)
                return parts[3] == self.replicaID ? nil : "a \(tokenID) \(self.replicaID)"
            case ("x", 2):
                cache.peers.removeValue(forKey: String(parts[1]))
                return nil
            case ("a", 3):
                cache.acknowledgements[String(parts[1])]?.insert(String(parts[2]))
                return nil
            default:
                return nil
            }
        }
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

    @discardableResult
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
