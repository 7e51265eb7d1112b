/// Which primary owns which hash slots, read from `CLUSTER SHARDS` (Redis 7.0+).
///
/// Only a primary that is `online` owns its shard's slots. A failed primary that the cluster still
/// lists next to its promoted replica (`health: fail`, or a `master` role on a node that lost its
/// slots) is never chosen: reads and writes go to the one healthy primary of each shard, and never to
/// a replica (a lagging replica would still accept a revoked session).
public struct ClusterTopology: Sendable, Hashable {
    /// The primaries, in the order first seen.
    public private(set) var primaries: [RedisEndpoint] = []
    /// Per slot, the index into ``primaries`` of its owner, or `nil` while no healthy primary serves it.
    private var owners: [UInt16]

    private static let unowned = UInt16.max

    /// A topology in which no slot has an owner.
    public init() {
        self.owners = Array(repeating: Self.unowned, count: HashSlot.count)
    }

    /// The owner of `slot`.
    public func owner(of slot: Int) -> RedisEndpoint? {
        let index = self.owners[slot]
        return index == Self.unowned ? nil : self.primaries[Int(index)]
    }

    /// How many slots have an owner.
    public var coveredSlots: Int { self.owners.reduce(0) { $0 + ($1 == Self.unowned ? 0 : 1) } }

    /// Records that `endpoint` owns `slot` (a `MOVED` redirect).
    public mutating func assign(slot: Int, to endpoint: RedisEndpoint) {
        self.owners[slot] = UInt16(self.index(of: endpoint))
    }

    private mutating func index(of endpoint: RedisEndpoint) -> Int {
        if let index = self.primaries.firstIndex(of: endpoint) { return index }
        self.primaries.append(endpoint)
        return self.primaries.count - 1
    }

    /// Parses a `CLUSTER SHARDS` reply (RESP2: flat key/value arrays). Throws for a reply of another shape.
    public init(shards reply: RESPValue) throws(RedisProtocolError) {
        self.init()
        guard let shards = reply.array else { throw RedisProtocolError(message: "CLUSTER SHARDS: not an array") }
        for shard in shards {
            let fields = try Self.map(shard)
            guard let slotList = fields["slots"]?.array, let nodes = fields["nodes"]?.array else {
                throw RedisProtocolError(message: "CLUSTER SHARDS: a shard without slots or nodes")
            }
            var primary: RedisEndpoint? = nil
            for node in nodes {
                let info = try Self.map(node)
                guard info["role"]?.string == "master", info["health"]?.string == "online" else { continue }
                var host = info["endpoint"]?.string ?? ""
                if host.isEmpty || host == "?" { host = info["ip"]?.string ?? "" }
                guard !host.isEmpty, let port = info["port"]?.int ?? info["tls-port"]?.int, port > 0 else { continue }
                primary = RedisEndpoint(host: host, port: port)
                break
            }
            guard let primary, !slotList.isEmpty else { continue }
            let ownerIndex = UInt16(self.index(of: primary))
            var position = 0
            while position + 1 < slotList.count {
                guard let start = slotList[position].int, let end = slotList[position + 1].int,
                    start >= 0, end < HashSlot.count, start <= end
                else { throw RedisProtocolError(message: "CLUSTER SHARDS: a bad slot range") }
                for slot in start...end { self.owners[slot] = ownerIndex }
                position += 2
            }
        }
    }

    private static func map(_ value: RESPValue) throws(RedisProtocolError) -> [String: RESPValue] {
        guard let elements = value.array, elements.count % 2 == 0 else {
            throw RedisProtocolError(message: "CLUSTER SHARDS: a map of another shape")
        }
        var fields: [String: RESPValue] = [:]
        var index = 0
        while index < elements.count {
            if let key = elements[index].string { fields[key] = elements[index + 1] }
            index += 2
        }
        return fields
    }
}
