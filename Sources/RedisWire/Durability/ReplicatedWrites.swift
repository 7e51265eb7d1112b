import Logging
import NIOConcurrencyHelpers
import NIOCore

/// What a write that waited for its replicas learned.
public struct ReplicatedReply: Sendable {
    /// The write's own reply.
    public let reply: RESPValue
    /// Replicas that acknowledged the write (`WAIT`'s answer) before the timeout.
    public let acknowledged: Int
    /// Replicas the write waited for.
    public let required: Int

    /// Whether enough replicas acknowledged.
    public var isReplicated: Bool { self.acknowledged >= self.required }
}

/// One connection per primary for writes that must survive a failover: the script runs there and
/// is followed by `WAIT n timeout` on the same connection (`WAIT` counts the writes of its own
/// connection). The shared pipelined connections never carry a `WAIT`, so they never block.
final class ReplicatedWrites: Sendable {
    private struct Dedicated {
        let connection: RedisConnection
        /// Replicas the primary had when the connection was opened (`ROLE`).
        let replicas: Int
    }

    private let connections = NIOLockedValueBox<[String: Dedicated]>([:])

    init() {}

    func send(
        _ script: RedisScript,
        keys: [RedisArgument],
        arguments: [RedisArgument],
        replicas: Int?,
        timeout: TimeAmount,
        client: RedisClient
    ) async throws -> ReplicatedReply {
        // The primary can move under us (a failover, a stale map): learn where it is now and try again,
        // within the failover budget; past it, the routed path (which follows redirects) runs the script
        // and the answer says nothing was confirmed by replicas. A timeout is retried too, on a new
        // connection: a graceful `CLUSTER FAILOVER` pauses the old primary's writers (longer than the
        // command timeout on a busy machine) and then answers `MOVED`. Every revocation script is safe
        // to send again. The routed path shares this budget (a drill saw a logout wait two budgets,
        // 10 s: five seconds here, then five more for a stale primary's NOREPLICAS on the routed path).
        let deadline = client.configuration.failoverDeadline()
        return try await FailoverDeadline.$current.withValue(deadline) {
            var attempt = 0
            while true {
                do {
                    return try await self.attempt(script, keys: keys, arguments: arguments, replicas: replicas, timeout: timeout, client: client)
                } catch let error as RedisClientError where error.code == .unavailable || error.code == .connectionClosed || error.code == .commandTimeout {
                    if error.code == .commandTimeout { self.dropAll() }
                    attempt += 1
                    let pause = TimeAmount.milliseconds(Int64(min(10 << min(attempt, 4), 150)))
                    guard NIODeadline.now() + pause < deadline else {
                        let routed: RESPValue
                        do {
                            routed = try await client.evaluate(script, keys: keys, arguments: arguments)
                        } catch let last as RedisClientError where last.code == .connectionClosed {
                            // The budget is spent: no resend by the caller either.
                            throw RedisClientError(.unavailable, "no primary took the write within the failover budget (\(last))")
                        }
                        return ReplicatedReply(reply: routed, acknowledged: 0, required: max(1, replicas ?? 1))
                    }
                    try await Task.sleep(nanoseconds: UInt64(pause.nanoseconds))
                    if case .cluster(let router) = client.backend { await router.refreshNow() }
                }
            }
        }
    }

    private func attempt(
        _ script: RedisScript,
        keys: [RedisArgument],
        arguments: [RedisArgument],
        replicas: Int?,
        timeout: TimeAmount,
        client: RedisClient
    ) async throws -> ReplicatedReply {
        let tail = [RedisArgument(keys.count)] + keys + arguments
        let evalsha = RedisCommand("EVALSHA", [RedisArgument(script.sha1)] + tail)
        let (name, configuration) = try await self.target(for: evalsha, client: client)
        let dedicated = try await self.connection(name: name, configuration: configuration, client: client)
        let commandTimeout = client.configuration.timeouts.command
        let required = replicas ?? min(1, dedicated.replicas)
        let wait = RedisCommand("WAIT", RedisArgument(required), RedisArgument(Int(max(1, timeout.nanoseconds / 1_000_000))))
        /// The write and its `WAIT`, pipelined: one round trip plus the replicas' acknowledgement.
        func send(_ command: RedisCommand) async throws -> (reply: RESPValue, acknowledged: Int) {
            let write = dedicated.connection.send(command, timeout: commandTimeout)
            let waited = required > 0 ? dedicated.connection.send(wait, timeout: timeout + commandTimeout) : nil
            let reply = try await write.get()
            let acknowledged = try await waited?.get().int ?? 0
            return (reply, acknowledged)
        }
        var (reply, acknowledged) = try await send(evalsha)
        if case .error(let error) = reply, error.kind == .noScript {
            (reply, acknowledged) = try await send(RedisCommand("EVAL", [RedisArgument(script.source)] + tail))
        }
        if case .error(let error) = reply {
            switch error.kind {
            case .moved, .ask, .readOnly, .clusterUnavailable, .loading, .noReplicas:
                // The primary moved: forget this connection and let the routed path follow (no WAIT
                // there: the answer says nothing was confirmed).
                self.drop(name)
                let routed = try await client.evaluate(script, keys: keys, arguments: arguments)
                return ReplicatedReply(reply: routed, acknowledged: 0, required: max(1, replicas ?? 1))
            default:
                throw error
            }
        }
        return ReplicatedReply(reply: reply, acknowledged: acknowledged, required: required)
    }

    /// The primary a command goes to: its name for the connection table and how to connect to it.
    private func target(for command: RedisCommand, client: RedisClient) async throws -> (String, RedisConfiguration) {
        guard let slot = command.slot else { throw RedisClientError(.invalidCommand, "a replicated write names no key") }
        let configuration = try await client.primaryConfiguration(slot: slot)
        return ("\(configuration.host):\(configuration.port)", configuration)
    }

    private func connection(name: String, configuration: RedisConfiguration, client: RedisClient) async throws -> Dedicated {
        if let existing = self.connections.withLockedValue({ $0[name] }), existing.connection.isActive { return existing }
        let connection = try await RedisConnection.connect(configuration: configuration, eventLoop: client.eventLoopGroup.next(), logger: client.logger)
        let role = try await connection.send(RedisCommand("ROLE"), timeout: configuration.timeouts.connect).get()
        guard let parts = role.array, parts.first?.string == "master" else {
            connection.close()
            throw RedisClientError(.unavailable, "\(name) is not a primary")
        }
        let replicas = parts.count > 2 ? parts[2].array?.count ?? 0 : 0
        let fresh = Dedicated(connection: connection, replicas: replicas)
        // Two callers may have connected at once: the first one stored wins, the other is closed.
        let chosen = self.connections.withLockedValue { connections -> Dedicated in
            if let existing = connections[name], existing.connection.isActive { return existing }
            connections[name] = fresh
            return fresh
        }
        if chosen.connection !== connection { connection.close() }
        return chosen
    }

    /// Closes every dedicated connection (the primary moved).
    func dropAll() {
        let all = self.connections.withLockedValue { connections -> [Dedicated] in
            defer { connections = [:] }
            return Array(connections.values)
        }
        for dedicated in all { dedicated.connection.close() }
    }

    private func drop(_ name: String) {
        self.connections.withLockedValue { $0.removeValue(forKey: name) }?.connection.close()
    }

    func shutdown() async {
        let all = self.connections.withLockedValue { connections -> [Dedicated] in
            defer { connections = [:] }
            return Array(connections.values)
        }
        for dedicated in all { await dedicated.connection.closeAndWait() }
    }
}
