import Foundation
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import Testing

/// The store's key lifetimes under every operation and every order of them, against the real Redis:
/// no key without a TTL, and no TTL past its deadline (a record's absolute deadline; an index's
/// latest absolute deadline of a session ever added to it).
@Suite struct KeyLifetimeTests {
    let prefix: String
    let redis: RedisClient

    init() throws {
        self.prefix = "ttl-\(UUID().uuidString.prefix(8)):"
        self.redis = try TestRedis.client(poolSize: 2)
    }

    /// Everything one operation may be, with the store it runs on.
    enum Operation: CaseIterable {
        case create, resolve, touch, update, rotate, destroy, destroyHandle, list, purge, purgeExcept, evict
    }

    /// What a sequence of operations knows about one user's sessions.
    final class World: @unchecked Sendable {
        /// Keys of this world live under their own prefix.
        let prefix: String
        init(prefix: String) { self.prefix = prefix + "\(UUID().uuidString.prefix(6)):" }
        var tokens: [SessionToken] = []
        /// The latest absolute deadline (Unix ms, Redis clock) of any session added to each user's index.
        var latestDeadline: [String: Int64] = [:]
        var absoluteTimeouts: [Int64] = [20_000, 45_000, 30_000]
        var next = 0

        func nextAbsolute() -> Int64 {
            self.next += 1
            return self.absoluteTimeouts[self.next % self.absoluteTimeouts.count]
        }
    }

    func repositories(_ world: World) -> (plain: RedisSessionRepository, touching: RedisSessionRepository) {
        func make(_ touchInterval: Int64) -> RedisSessionRepository {
            RedisSessionRepository(
                redis: self.redis,
                layout: KeyLayout(prefix: world.prefix),
                policy: StorePolicy(touchInterval: touchInterval, maximumSessionsPerUser: 3),
                logger: Logger(label: "test")
            )
        }
        return (make(60_000), make(0))
    }

    func create(_ user: String, in world: World, on repository: RedisSessionRepository) async throws {
        let absolute = world.nextAbsolute()
        let issued = try await repository.create(
            NewSession(userID: user, dataJSON: Array("{}".utf8), metadataJSON: Array("{}".utf8), idleTimeout: 10_000, absoluteTimeout: absolute)
        )
        world.tokens.append(issued.token)
        world.latestDeadline[user] = max(world.latestDeadline[user] ?? 0, issued.session.expiresAt)
    }

    func run(_ operation: Operation, user: String, world: World) async throws {
        let (plain, touching) = self.repositories(world)
        let token = world.tokens.last
        switch operation {
        case .create:
            try await self.create(user, in: world, on: plain)
        case .resolve:
            if let token { _ = try await plain.resolve(token) }
        case .touch:
            if let token { _ = try await touching.resolve(token) }
        case .update:
            if let token { _ = try await plain.update(token, expectedVersion: nil) { _ in Array(#"{"n":1}"#.utf8) } }
        case .rotate:
            if let token, let rotated = try await plain.rotate(token) {
                world.tokens.removeLast()
                world.tokens.append(rotated.token)
            }
        case .destroy:
            if let token { try await plain.destroy(token) }
        case .destroyHandle:
            if let token { try await plain.destroy(handle: token.handle) }
        case .list:
            _ = try await plain.sessions(ofUser: user)
        case .purge:
            _ = try await plain.purge(user: user, except: nil)
        case .purgeExcept:
            _ = try await plain.purge(user: user, except: token?.handle)
        case .evict:
            // The limit is 3: the fourth create evicts the oldest.
            for _ in 0..<4 { try await self.create(user, in: world, on: plain) }
        }
    }

    /// Checks every key under the prefix; returns the problems found.
    func problems(world: World) async throws -> [String] {
        let layout = KeyLayout(prefix: world.prefix)
        var problems: [String] = []
        let keys = try await self.redis.scanKeys(matching: "\(world.prefix)*").compactMap(\.string)
        let now = WallClock.milliseconds()
        for key in keys {
            let ttl = Int64(try await self.redis.pttl(RedisArgument(key)))
            if ttl < 0 {
                problems.append("\(key) has no TTL (\(ttl))")
                continue
            }
            if key.contains("}:s:") {
                guard let record = try await self.redis.get(RedisArgument(key)),
                    let session = try? SessionRecordCodec.decode(Array(record.readableBytesView), handle: SessionToken.generate(for: "x").handle)
                else { continue }
                // 50 ms for the clock read between Redis and here.
                if now + ttl > session.expiresAt + 50 { problems.append("\(key) outlives its absolute deadline by \(now + ttl - session.expiresAt) ms") }
                if now + ttl > session.idleExpiresAt + 50 { problems.append("\(key) outlives its idle deadline") }
            } else {
                let user = world.latestDeadline.keys.first { layout.userIndexKey(userID: $0) == key }
                guard let user, let deadline = world.latestDeadline[user] else {
                    problems.append("\(key) is not a key this test made")
                    continue
                }
                if now + ttl > deadline + 50 { problems.append("\(key) outlives its latest session by \(now + ttl - deadline) ms") }
            }
        }
        return problems
    }

    @Test func loginThenRotateKeepsTheIndexExpiring() async throws {
        let world = World(prefix: self.prefix)
        try await self.run(.create, user: "rotator", world: world)
        try await self.run(.rotate, user: "rotator", world: world)
        try await self.run(.create, user: "rotator", world: world)
        let index = RedisArgument(KeyLayout(prefix: world.prefix).userIndexKey(userID: "rotator"))
        let ttl = try await self.redis.pttl(index)
        #expect(ttl > 0)
        #expect(try await self.problems(world: world).isEmpty)
    }

    /// Every ordered pair of operations after a create, on a user of its own, checked after each step.
    @Test func everyPairOfOperationsKeepsEveryKeyExpiring() async throws {
        // After one create (the usual login) and after two (so that removals leave the index non-empty).
        for creates in 1...2 {
            for first in Operation.allCases {
                for second in Operation.allCases {
                    let world = World(prefix: self.prefix)
                    let user = "pair-\(first)-\(second)"
                    for _ in 0..<creates { try await self.run(.create, user: user, world: world) }
                    try await self.run(first, user: user, world: world)
                    let afterFirst = try await self.problems(world: world)
                    #expect(afterFirst.isEmpty, "after \(creates) create(s), \(first): \(afterFirst)")
                    try await self.run(second, user: user, world: world)
                    let afterSecond = try await self.problems(world: world)
                    #expect(afterSecond.isEmpty, "after \(creates) create(s), \(first), \(second): \(afterSecond)")
                }
            }
        }
    }

    /// Long random sequences over a few users (fixed seeds, so a failure replays).
    @Test(arguments: [1, 2, 3])
    func randomSequencesKeepEveryKeyExpiring(seed: UInt64) async throws {
        var generator = SplitMix64(seed: seed)
        let world = World(prefix: self.prefix)
        var done: [String] = []
        for _ in 0..<120 {
            let operation = Operation.allCases.randomElement(using: &generator)!
            let user = "random-\(seed)-\(Int.random(in: 0..<3, using: &generator))"
            try await self.run(operation, user: user, world: world)
            done.append("\(operation)")
            let found = try await self.problems(world: world)
            #expect(found.isEmpty, "after \(done.suffix(8).joined(separator: ", ")): \(found)")
            if !found.isEmpty { break }
        }
    }
}
