import NIOCore
import Testing

@testable import RedisWire

@Suite struct ClusterUnitTests {
    @Test func slotsOfKnownKeys() {
        // Values from `CLUSTER KEYSLOT` (the integration test compares thousands more).
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("sessiond:{abcd}:s:x") == 10294)
        #expect(HashSlot.of("{}bar") == 6479)  // an empty tag hashes the whole key
        #expect(HashSlot.of("a{b}c{d}") == 3300)  // only the first tag counts
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
    }

    @Test func commandsKnowTheirFirstKey() {
        #expect(RedisCommand("GET", "k").slot == HashSlot.of("k"))
        #expect(RedisCommand("EVALSHA", "abc", "2", "{t}:a", "{t}:b", "arg").slot == HashSlot.of("t"))
        #expect(RedisCommand("EVALSHA", "abc", "0", "arg").slot == nil)
        #expect(RedisCommand("PING").slot == nil)
        #expect(RedisCommand("script", "load", "x").slot == nil)
    }

    static func node(_ id: String, _ port: Int, role: String, health: String) -> RESPValue {
        .array([
            .bulkString(ByteBuffer(string: "id")), .bulkString(ByteBuffer(string: id)),
            .bulkString(ByteBuffer(string: "port")), .integer(Int64(port)),
            .bulkString(ByteBuffer(string: "ip")), .bulkString(ByteBuffer(string: "127.0.0.1")),
            .bulkString(ByteBuffer(string: "endpoint")), .bulkString(ByteBuffer(string: "127.0.0.1")),
            .bulkString(ByteBuffer(string: "role")), .bulkString(ByteBuffer(string: role)),
            .bulkString(ByteBuffer(string: "replication-offset")), .integer(100),
            .bulkString(ByteBuffer(string: "health")), .bulkString(ByteBuffer(string: health)),
        ])
    }

    static func shard(_ ranges: [(Int, Int)], _ nodes: [RESPValue]) -> RESPValue {
        .array([
            .bulkString(ByteBuffer(string: "slots")), .array(ranges.flatMap { [RESPValue.integer(Int64($0.0)), .integer(Int64($0.1))] }),
            .bulkString(ByteBuffer(string: "nodes")), .array(nodes),
        ])
    }

    /// After a failover the old primary can still be listed next to the new one, as `failed` (or as a
    /// master that lost its slots): only the healthy primary owns the shard; replicas never do.
    @Test func aFailedOldPrimaryListedNextToTheNewOneIsNeverChosen() throws {
        let reply = RESPValue.array([
            Self.shard([(0, 5460)], [Self.node("a", 7000, role: "master", health: "failed"), Self.node("d", 7003, role: "master", health: "online")]),
            Self.shard([(5461, 10922)], [Self.node("b", 7001, role: "master", health: "online"), Self.node("e", 7004, role: "replica", health: "online")]),
            Self.shard([(10923, 16383)], [Self.node("f", 7005, role: "replica", health: "online"), Self.node("c", 7002, role: "master", health: "online")]),
        ])
        let topology = try ClusterTopology(shards: reply)
        #expect(topology.owner(of: 0) == RedisEndpoint(host: "127.0.0.1", port: 7003))
        #expect(topology.owner(of: 5460) == RedisEndpoint(host: "127.0.0.1", port: 7003))
        #expect(topology.owner(of: 5461) == RedisEndpoint(host: "127.0.0.1", port: 7001))
        #expect(topology.owner(of: 16383) == RedisEndpoint(host: "127.0.0.1", port: 7002))
        #expect(topology.coveredSlots == 16384)
        #expect(!topology.primaries.contains(RedisEndpoint(host: "127.0.0.1", port: 7000)))
        // A shard whose primary is down and not yet replaced has no owner.
        let down = try ClusterTopology(shards: .array([Self.shard([(0, 99)], [Self.node("a", 7000, role: "master", health: "failed")])]))
        #expect(down.owner(of: 50) == nil)
        #expect(throws: RedisProtocolError.self) { try ClusterTopology(shards: .bulkString(ByteBuffer(string: "x"))) }
    }
}
