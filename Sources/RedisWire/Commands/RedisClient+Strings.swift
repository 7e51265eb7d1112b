import NIOCore

extension RedisClient {
    /// `GET key`: the value, or nil when the key does not exist.
    public func get(_ key: RedisArgument) async throws -> ByteBuffer? {
        switch try await self.send(RedisCommand("GET", key)) {
        case .bulkString(let buffer): return buffer
        default: return nil
        }
    }

    /// How `SET` treats an existing key.
    public enum SetCondition: Sendable {
        /// Always set.
        case always
        /// Only if the key does not exist (`NX`).
        case ifNotExists
        /// Only if the key exists (`XX`).
        case ifExists
    }

    /// `SET key value [PX ms] [NX|XX]`; returns whether the value was written.
    @discardableResult
    public func set(
        _ key: RedisArgument,
        to value: RedisArgument,
        expireIn: TimeAmount? = nil,
        condition: SetCondition = .always
    ) async throws -> Bool {
        var arguments = [key, value]
        if let expireIn {
            arguments.append("PX")
            arguments.append(RedisArgument(max(1, expireIn.nanoseconds / 1_000_000)))
        }
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        return try await self.send(RedisCommand("SET", arguments)) != .null
    }

    /// `DEL key…`: the number of keys removed.
    @discardableResult
    public func delete(_ keys: [RedisArgument]) async throws -> Int {
        try await self.send(RedisCommand("DEL", keys)).int ?? 0
    }

    /// `EXISTS key…`: how many of the keys exist.
    public func exists(_ keys: [RedisArgument]) async throws -> Int {
        try await self.send(RedisCommand("EXISTS", keys)).int ?? 0
    }

    /// `PEXPIRE key ms`: whether the timeout was set.
    @discardableResult
    public func pexpire(_ key: RedisArgument, after: TimeAmount) async throws -> Bool {
        try await self.send(RedisCommand("PEXPIRE", key, RedisArgument(after.nanoseconds / 1_000_000))).int == 1
    }

    /// `PTTL key`: milliseconds to live; -1 without expiry, -2 when the key does not exist.
    public func pttl(_ key: RedisArgument) async throws -> Int {
        try await self.send(RedisCommand("PTTL", key)).int ?? -2
    }

    /// `PING`.
    public func ping() async throws {
        // Every primary: a cluster is ready when every shard answers.
        _ = try await self.sendToEveryPrimary(RedisCommand("PING"))
    }
}
