extension RedisClient {
    /// Every key matching `pattern`, by iterating `SCAN` to completion (never `KEYS`) on every
    /// primary (one node's own; every primary of a cluster).
    public func scanKeys(matching pattern: String = "*", count: Int = 1000) async throws -> [RESPValue] {
        var keys: [RESPValue] = []
        for primary in try await self.primaryEndpoints() {
            var cursor = "0"
            repeat {
                let reply = try await self.send(
                    RedisCommand("SCAN", RedisArgument(cursor), "MATCH", RedisArgument(pattern), "COUNT", RedisArgument(count)),
                    to: primary
                )
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
                    throw RedisProtocolError(message: "malformed SCAN reply")
                }
                keys.append(contentsOf: batch)
                cursor = next
            } while cursor != "0"
        }
        return keys
    }
}
