import Foundation
import Logging
import NIOCore
import RedisTestSupport
import Testing

@testable import RedisWire

/// Redirects, retries and refreshes of the cluster router against fake nodes, and hash slots against a
/// real cluster's `CLUSTER KEYSLOT`.
@Suite struct ClusterRoutingTests {
    /// `CLUSTER SHARDS` (RESP2) with one shard holding every slot, served by `port`.
    static func shards(ownedBy port: Int) -> String {
        let node = ["id", "n\(port)", "port", ":\(port)", "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "master", "replication-offset", ":1", "health", "online"]
        func bulk(_ text: String) -> String { text.hasPrefix(":") ? "\(text)\r\n" : "$\(text.utf8.count)\r\n\(text)\r\n" }
        return "*1\r\n*4\r\n" + bulk("slots") + "*2\r\n:0\r\n:16383\r\n" + bulk("nodes") + "*1\r\n*\(node.count)\r\n" + node.map(bulk).joined()
    }

    /// Generous timeouts and budget where timing is not the subject: the parallel suite can starve an
    /// event loop for a second or more on two cores.
    static func client(seed: FakeRedisNode, budget: TimeAmount = .seconds(10)) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "redis+cluster://\(seed.address)")
        configuration.poolSize = 1
        configuration.failoverBudget = budget
        configuration.backoff = .init(initial: .milliseconds(5), maximum: .milliseconds(20))
        configuration.timeouts = .init(connect: .seconds(2), command: .seconds(5))
        return RedisClient(configuration: configuration, logger: Logger(label: "test"))
    }

    static func gets(_ node: FakeRedisNode) -> Int { node.received.filter { $0.first == "GET" }.count }
    static func shardQueries(_ node: FakeRedisNode) -> Int { node.received.filter { $0.first == "CLUSTER" }.count }

    /// `MOVED` sends the command to the new owner at once and updates the map: the next command goes
    /// there directly.
    @Test func movedRetriesAtTheNewOwnerAndUpdatesTheMap() async throws {
        let owner = LockedBox(0)
        let b = try await FakeRedisNode { command in
            command.first == "CLUSTER" ? Self.shards(ownedBy: owner.withLock { $0 }) : "$2\r\nvb\r\n"
        }
        let bPort = b.port
        let a = try await FakeRedisNode { command in
            if command.first == "CLUSTER" { return Self.shards(ownedBy: owner.withLock { $0 }) }
            owner.withLock { $0 = bPort }
            return "-MOVED \(HashSlot.of("k")) 127.0.0.1:\(bPort)\r\n"
        }
        owner.withLock { $0 = a.port }
        let redis = try Self.client(seed: a)
        #expect(try await redis.get("k").map { String(buffer: $0) } == "vb")
        #expect(try await redis.get("k").map { String(buffer: $0) } == "vb")
        #expect(Self.gets(a) == 1 && Self.gets(b) == 2)
        await redis.shutdown()
        await a.close()
        await b.close()
    }

    /// `ASK` sends `ASKING` and the command back to back to the importing node, once, without
    /// changing the map.
    @Test func askSendsAskingThenTheCommandOnce() async throws {
        let b = try await FakeRedisNode { command in
            switch command.first {
            case "ASKING": return "+OK\r\n"
            case "GET": return "$2\r\nvb\r\n"
            default: return "-ERR unexpected\r\n"
            }
        }
        let bPort = b.port
        let aPort = LockedBox(0)
        let a = try await FakeRedisNode { command in
            command.first == "CLUSTER" ? Self.shards(ownedBy: aPort.withLock { $0 }) : "-ASK \(HashSlot.of("k")) 127.0.0.1:\(bPort)\r\n"
        }
        aPort.withLock { $0 = a.port }
        let redis = try Self.client(seed: a)
        for _ in 0..<2 { #expect(try await redis.get("k").map { String(buffer: $0) } == "vb") }
        #expect(Self.gets(a) == 2)
        #expect(b.received.map { $0.first ?? "" } == ["ASKING", "GET", "ASKING", "GET"])
        await redis.shutdown()
        await a.close()
        await b.close()
    }

    /// `TRYAGAIN` (and the other "not now" answers) are retried with back-off within the budget.
    @Test func tryAgainIsRetriedUntilItWorks() async throws {
        let refusals = LockedBox(3)
        let port = LockedBox(0)
        let a = try await FakeRedisNode { command in
            if command.first == "CLUSTER" { return Self.shards(ownedBy: port.withLock { $0 }) }
            return refusals.withLock { count in
                count -= 1
                return count >= 0 ? "-TRYAGAIN Multiple keys request during rehashing of slot\r\n" : "$1\r\nv\r\n"
            }
        }
        port.withLock { $0 = a.port }
        let redis = try Self.client(seed: a)
        #expect(try await redis.get("k").map { String(buffer: $0) } == "v")
        #expect(Self.gets(a) == 4)
        await redis.shutdown()
        await a.close()
    }

    /// A node that owns every slot and answers every command but `CLUSTER` with `-CLUSTERDOWN`.
    static func clusterDownNode() async throws -> FakeRedisNode {
        let port = LockedBox(0)
        let node = try await FakeRedisNode { command in
            command.first == "CLUSTER" ? Self.shards(ownedBy: port.withLock { $0 }) : "-CLUSTERDOWN The cluster is down\r\n"
        }
        port.withLock { $0 = node.port }
        return node
    }

    /// `CLUSTERDOWN` for longer than the budget: the caller gets the error after about the budget, and
    /// the refreshes it triggers stay rate-limited (at most one per 100–250 ms).
    @Test func clusterDownPastTheBudgetFailsAndRefreshesStayRateLimited() async throws {
        let a = try await Self.clusterDownNode()
        let redis = try Self.client(seed: a, budget: .milliseconds(800))
        // Discover first (a keyless command: any primary), so the budget is the GET's alone.
        _ = try await redis.send("CLUSTER", "SHARDS")
        let started = ContinuousClock.now
        await #expect {
            try await redis.get("k")
        } throws: { error in
            (error as? RedisServerError)?.kind == .clusterUnavailable
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(500) && waited < .seconds(3), "\(waited)")
        // One discovery, then at most one refresh per 100 ms over 800 ms.
        #expect(Self.shardQueries(a) >= 2 && Self.shardQueries(a) <= 10, "\(Self.shardQueries(a)) refreshes")
        #expect(Self.gets(a) > 3)
        await redis.shutdown()
        await a.close()
    }

    /// One request, one budget: a command sent inside an operation that is already waiting out a
    /// failover (a durable logout's routed fallback, a resend after a write pause) waits only for what
    /// is left of that operation's budget, not for a budget of its own.
    @Test func aNestedWaitEndsWithTheEnclosingBudget() async throws {
        let a = try await Self.clusterDownNode()
        let redis = try Self.client(seed: a, budget: .seconds(10))
        _ = try await redis.send("CLUSTER", "SHARDS")
        let started = ContinuousClock.now
        await #expect(throws: RedisServerError.self) {
            try await FailoverDeadline.$current.withValue(NIODeadline.now() + .milliseconds(600)) {
                try await redis.get("k")
            }
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(400) && waited < .seconds(4), "\(waited)")
        await redis.shutdown()
        await a.close()
    }

    /// A slot owner that refuses connections triggers a refresh; the command goes to the node the
    /// fresh map names, within the budget.
    @Test func aRefusedSlotOwnerTriggersARefresh() async throws {
        // The first map names a dead node (nothing listens on port 1: privileged, and never handed
        // out to another test's listener); the next map, which only a refresh asks for, names a.
        let queries = LockedBox(0)
        let aPort = LockedBox(0)
        let a = try await FakeRedisNode { command in
            guard command.first == "CLUSTER" else { return "$1\r\nv\r\n" }
            let first = queries.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            return Self.shards(ownedBy: first ? 1 : aPort.withLock { $0 })
        }
        aPort.withLock { $0 = a.port }
        let redis = try Self.client(seed: a)
        #expect(try await redis.get("k").map { String(buffer: $0) } == "v")
        #expect(Self.shardQueries(a) >= 2)
        await redis.shutdown()
        await a.close()
    }

    /// A dedicated connection (and the `PING` that tells a write pause from a hung primary) goes to
    /// the primary that serves the key: the cluster's slot owner, the primary the sentinels name.
    @Test func dedicatedConnectionsReachThePrimaryOfTheKey() async throws {
        let cluster = RedisClient(configuration: try RedisConfiguration(url: try TestCluster.url), logger: Logger(label: "test"))
        let sentinel = RedisClient(configuration: try RedisConfiguration(url: try TestSentinel.url), logger: Logger(label: "test"))
        for key in ["a", "b", "c", "{user-1}:s:x", "{user-2}:s:y", "zz"] {
            // A node that does not own the slot answers -MOVED.
            let reply = try await cluster.withDedicatedConnection(forKey: RedisArgument(key)) { connection in
                try await connection.send(RedisCommand("EXISTS", RedisArgument(key)), timeout: .seconds(2)).get()
            }
            #expect(reply.int != nil, "\(key): \(reply)")
            #expect(await cluster.primaryAnswersPing(slot: HashSlot.of(key)))
        }
        let role = try await sentinel.withDedicatedConnection { connection in
            try await connection.send(RedisCommand("ROLE"), timeout: .seconds(2)).get()
        }
        #expect(role.array?.first?.string == "master", "\(role)")
        #expect(await sentinel.primaryAnswersPing(slot: nil))
        await cluster.shutdown()
        await sentinel.shutdown()
    }

    /// Our slot computation is the cluster's, for thousands of keys (real `CLUSTER KEYSLOT`).
    @Test func slotsMatchClusterKeyslot() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: try TestCluster.url), logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        var generator = SystemRandomNumberGenerator()
        var keys = ["", "{", "}", "{}", "{}{a}", "a{}b", "{a}{b}", "x{y", "x}y{z}", "sessiond:{abcd}:s:xyz", "ü{ñ}"]
        for _ in 0..<2000 {
            let length = Int.random(in: 1...40, using: &generator)
            keys.append(String((0..<length).map { _ in "ab{}xyz:01".randomElement(using: &generator)! }))
        }
        for key in keys {
            let slot = try await redis.send("CLUSTER", "KEYSLOT", RedisArgument(key)).int
            #expect(slot == HashSlot.of(key), "\(key)")
        }
    }
}
