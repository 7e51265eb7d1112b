extension RedisClient {
    /// `ZADD key score member`: whether the member was new.
    @discardableResult
    public func zadd(_ key: RedisArgument, score: Double, member: RedisArgument) async throws -> Bool {
        try await self.send(RedisCommand("ZADD", key, RedisArgument("\(score)"), member)).int == 1
    }

    /// `ZRANGE key start stop [REV]`: members by rank.
    public func zrange(_ key: RedisArgument, start: Int, stop: Int, reverse: Bool = false) async throws -> [RESPValue] {
        var arguments: [RedisArgument] = [key, RedisArgument(start), RedisArgument(stop)]
        if reverse { arguments.append("REV") }
        return try await self.send(RedisCommand("ZRANGE", arguments)).array ?? []
    }

    /// `ZREM key member…`: how many were removed.
    @discardableResult
    public func zrem(_ key: RedisArgument, members: [RedisArgument]) async throws -> Int {
        try await self.send(RedisCommand("ZREM", [key] + members)).int ?? 0
    }

    /// `ZCARD key`.
    public func zcard(_ key: RedisArgument) async throws -> Int {
        try await self.send(RedisCommand("ZCARD", key)).int ?? 0
    }
}
