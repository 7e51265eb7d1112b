import Crypto

/// A Lua script run with `EVALSHA`, loaded on demand when the server answers `NOSCRIPT`.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// Lower-case hex SHA1 of the source, as Redis names cached scripts.
    public let sha1: String

    /// A script from its Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension RedisClient {
    /// Runs `script` with `EVALSHA`; on `NOSCRIPT` (a restarted, failed-over or flushed server) it
    /// sends the source with `EVAL`, which runs the script and caches it again in one round trip.
    ///
    /// - Parameter resendThroughWritePauses: the script is safe to run twice, so a timeout on a primary
    ///   that is pausing its writers (a graceful failover) sends it again within the failover budget
    ///   (``resendingThroughWritePauses(key:_:)``).
    @discardableResult
    public func evaluate(
        _ script: RedisScript,
        keys: [RedisArgument],
        arguments: [RedisArgument] = [],
        resendThroughWritePauses: Bool = false
    ) async throws -> RESPValue {
        let tail = [RedisArgument(keys.count)] + keys + arguments
        func run() async throws -> RESPValue {
            do {
                return try await self.send(RedisCommand("EVALSHA", [RedisArgument(script.sha1)] + tail))
            } catch let error as RedisServerError where error.kind == .noScript {
                return try await self.send(RedisCommand("EVAL", [RedisArgument(script.source)] + tail))
            }
        }
        guard resendThroughWritePauses else { return try await run() }
        return try await self.resendingThroughWritePauses(key: keys.first, run)
    }

    /// `SCRIPT LOAD`: caches the script on the server (on every primary of a cluster).
    public func loadScript(_ script: RedisScript) async throws {
        for reply in try await self.sendToEveryPrimary(RedisCommand("SCRIPT", "LOAD", RedisArgument(script.source))) {
            guard reply.string == script.sha1 else {
                throw RedisProtocolError(message: "SCRIPT LOAD returned an unexpected digest")
            }
        }
    }
}
