import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The async/await face of the Redis layer: a pool of pipelined connections plus typed commands.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379"), logger: logger)
/// try await redis.set("greeting", to: "hello")
/// ```
public final class RedisClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: RedisConfiguration
    /// Where commands go: one node's pool, or a Redis Cluster's router.
    enum Backend: Sendable {
        case node(RedisConnectionPool)
        case cluster(ClusterRouter)
    }
    let backend: Backend
    /// With Sentinel: asks the sentinels for the primary and watches `+switch-master`.
    let sentinel: SentinelResolver?
    /// The dedicated connections of writes that wait for replicas.
    let replicatedWrites = ReplicatedWrites()
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    private let commandTimer: Metrics.Timer
    private let errorCounter: Counter
    /// Commands sent again after a timeout on a primary pausing its writers.
    private let writePauseResends: Counter

    /// Creates a client; connections open lazily on first use.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        switch configuration.topology {
        case .cluster(let seeds):
            self.sentinel = nil
            self.backend = .cluster(ClusterRouter(configuration: configuration, seeds: seeds, eventLoopGroup: eventLoopGroup, logger: logger))
        case .standalone:
            self.sentinel = nil
            self.backend = .node(RedisConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger))
        case .sentinel(let sentinelConfiguration):
            let resolver = SentinelResolver(sentinel: sentinelConfiguration, base: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
            let pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, resolver: resolver)
            self.sentinel = resolver
            self.backend = .node(pool)
            let replicated = self.replicatedWrites
            resolver.watch {
                pool.closeAll()
                replicated.dropAll()
            }
        }
        self.commandTimer = Metrics.Timer(label: "redis_command_duration_seconds", preferredDisplayUnit: .seconds)
        self.errorCounter = Counter(label: "redis_command_errors_total")
        self.writePauseResends = Counter(label: "redis_write_pause_resends_total")
    }

    /// Connections open and alive, and the pool's size.
    public var poolStatistics: (connected: Int, total: Int) {
        switch self.backend {
        case .node(let pool): return pool.statistics
        case .cluster(let router): return router.statistics
        }
    }

    /// Sends a command and returns its reply.
    ///
    /// An error reply is thrown as ``RedisServerError``; a `-LOADING` (or other retryable) reply is
    /// retried until the command's deadline. Connection failures and timeouts throw ``RedisClientError``.
    ///
    /// - Parameter timeout: overrides the configured command timeout for this command.
    @discardableResult
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        let timeout = timeout ?? self.configuration.timeouts.command
        if command.changesConnectionState {
            throw RedisClientError(
                .invalidCommand,
                "\(command.name) would block or change the state of a shared pipelined connection; use withDedicatedConnection"
            )
        }
        switch self.backend {
        case .node(let pool):
            return try await self.send(command, timeout: timeout, pool: pool)
        case .cluster(let router):
            let start = NIODeadline.now()
            let reply: RESPValue
            do {
                reply = try await router.send(command, timeout: timeout)
            } catch {
                self.errorCounter.increment()
                throw error
            }
            if case .error(let serverError) = reply {
                self.errorCounter.increment()
                throw serverError
            }
            self.commandTimer.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
            return reply
        }
    }

    /// The primaries commands go to: `nil` stands for one node's own server; a cluster's are listed.
    func primaryEndpoints() async throws -> [RedisEndpoint?] {
        switch self.backend {
        case .node: return [nil]
        case .cluster(let router): return try await router.primaries()
        }
    }

    /// Sends `command` to `primary` (nil: wherever it would go).
    func send(_ command: RedisCommand, to primary: RedisEndpoint?, timeout: TimeAmount? = nil) async throws -> RESPValue {
        guard let primary, case .cluster(let router) = self.backend else { return try await self.send(command, timeout: timeout) }
        let reply = try await router.send(command, timeout: timeout ?? self.configuration.timeouts.command, to: primary)
        if case .error(let serverError) = reply { throw serverError }
        return reply
    }

    /// Sends `command` to every primary (a cluster's; one node's own), e.g. `SCRIPT LOAD`; their replies.
    public func sendToEveryPrimary(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws -> [RESPValue] {
        var replies: [RESPValue] = []
        for primary in try await self.primaryEndpoints() {
            replies.append(try await self.send(command, to: primary, timeout: timeout))
        }
        return replies
    }

    /// Runs `body` on a connection of its own (opened for it and closed after), for the commands that
    /// shared pipelined connections refuse (`WAIT`, `MULTI`, blocking commands). In a cluster it is a
    /// connection to the primary of `key`'s slot.
    public func withDedicatedConnection<Result: Sendable>(
        forKey key: RedisArgument? = nil,
        _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        try await self.withDedicatedConnection(configuration: self.primaryConfiguration(slot: key.map { HashSlot.of($0.bytes) }), body)
    }

    private func withDedicatedConnection<Result: Sendable>(
        configuration: RedisConfiguration,
        _ body: (RedisConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await RedisConnection.connect(configuration: configuration, eventLoop: self.eventLoopGroup.next(), logger: self.logger)
        do {
            let result = try await body(connection)
            await connection.closeAndWait()
            return result
        } catch {
            await connection.closeAndWait()
            throw error
        }
    }

    /// Runs `body`, a command that is safe to run twice. When it times out on a primary that still
    /// answers `PING` on a connection of its own, the primary is pausing its writers, not hung: a
    /// graceful failover (`CLUSTER FAILOVER` pauses the old primary's writers until its replica has
    /// caught up, then answers `MOVED`) or `CLIENT PAUSE WRITE`. The command is sent again, until the
    /// failover budget is spent. A hung primary answers no `PING` either: its error comes one command
    /// timeout later than without this, never a budget later.
    func resendingThroughWritePauses(key: RedisArgument?, _ body: () async throws -> RESPValue) async throws -> RESPValue {
        let budget = self.configuration.failoverDeadline()
        let slot = { key.map { HashSlot.of($0.bytes) } }  // only after a timeout
        do {
            return try await body()
        } catch let error as RedisClientError where error.code == .commandTimeout {
            guard NIODeadline.now() < budget, await self.primaryAnswersPing(slot: slot()) else { throw error }
        }
        // Every resend waits out failovers within what is left of this budget, not a budget of its own.
        return try await FailoverDeadline.$current.withValue(budget) {
            while true {
                self.writePauseResends.increment()
                do {
                    return try await body()
                } catch let error as RedisClientError where error.code == .commandTimeout {
                    guard NIODeadline.now() < budget, await self.primaryAnswersPing(slot: slot()) else { throw error }
                }
            }
        }
    }

    /// Whether the primary serving `slot` answers `PING` on a new connection within one command
    /// timeout (connect and handshake included).
    func primaryAnswersPing(slot: Int?) async -> Bool {
        await self.sendOnANewConnection(RedisCommand("PING"), slot: slot) == .simpleString("PONG")
    }

    /// Sends a command that writes nothing (`GET`, `EXISTS`). When it times out — on a pipelined
    /// connection held up behind a write that a primary pausing its writers holds back, every later
    /// command of that connection waits too — it is sent once more on a connection of its own, which
    /// the pause does not hold up. A hung primary does not answer there either: its error comes one
    /// command timeout later.
    public func read(_ command: RedisCommand) async throws -> RESPValue {
        do {
            return try await self.send(command)
        } catch let error as RedisClientError where error.code == .commandTimeout {
            guard let reply = await self.sendOnANewConnection(command, slot: command.slot) else { throw error }
            if case .error = reply {
                // A redirect or a retryable reply (the map changed meanwhile): the routed path knows.
                return try await self.send(command)
            }
            self.writePauseResends.increment()
            return reply
        }
    }

    /// `command`'s reply from the primary serving `slot` over a new connection, within one command
    /// timeout in all (connect and handshake included); nil when there is none in time.
    private func sendOnANewConnection(_ command: RedisCommand, slot: Int?) async -> RESPValue? {
        let timeout = self.configuration.timeouts.command
        let deadline = NIODeadline.now() + timeout
        do {
            var configuration = try await self.primaryConfiguration(slot: slot)
            configuration.timeouts.connect = timeout
            return try await self.withDedicatedConnection(configuration: configuration) { connection in
                let remaining = deadline - .now()
                guard remaining > .zero else { return nil }
                return try await connection.send(command, timeout: remaining).get()
            }
        } catch {
            return nil
        }
    }

    /// How to connect to the primary that serves `slot`, as a one-node configuration: the cluster's
    /// owner of the slot (without a slot, its first primary), the primary the sentinels name now, or
    /// the configured server.
    func primaryConfiguration(slot: Int?) async throws -> RedisConfiguration {
        switch self.backend {
        case .cluster(let router):
            let topology = try await router.topology()
            guard let endpoint = slot.map({ topology.owner(of: $0) }) ?? topology.primaries.first else {
                throw RedisClientError(.unavailable, slot.map { "no healthy primary serves slot \($0)" } ?? "the cluster has no primary")
            }
            return router.configuration(for: endpoint)
        case .node:
            var configuration = self.configuration
            if let sentinel = self.sentinel {
                let primary = try await sentinel.primary()
                configuration.topology = .standalone
                configuration.host = primary.host
                configuration.port = primary.port
            }
            return configuration
        }
    }

    /// One node: retries `-LOADING` (and other retryable replies) until the command's deadline, and
    /// `-READONLY` (a primary demoted behind the same address) on a new connection within the failover
    /// budget: the connection that got it is closed, so the next one resolves the address again.
    private func send(_ command: RedisCommand, timeout: TimeAmount, pool: RedisConnectionPool) async throws -> RESPValue {
        let start = NIODeadline.now()
        var readOnlyUntil: NIODeadline? = nil
        // The command's deadline starts once it has a connection; opening one is bounded by the
        // connect timeout, and fails at once while Redis is known to be down (back-off).
        var deadline: NIODeadline? = nil
        var attempt = 0
        while true {
            let reply: RESPValue
            let connection: RedisConnection
            do {
                connection = try await pool.connection()
                let commandDeadline = deadline ?? (NIODeadline.now() + timeout)
                deadline = commandDeadline
                let remaining = commandDeadline - .now()
                guard remaining > .zero else { throw RedisClientError.commandTimeout }
                reply = try await connection.send(command, timeout: remaining).get()
            } catch {
                self.errorCounter.increment()
                throw error
            }
            if case .error(let serverError) = reply, serverError.kind == .readOnly || serverError.kind == .noReplicas {
                // Not executed. READONLY: the address now points at a replica, so every connection to it
                // reads from a replica: drop them all and retry on a new one (a new connect resolves the
                // name again). NOREPLICAS: a primary without its replicas yet (just promoted) or any more
                // (stale): wait and retry. Both until the failover budget is spent.
                if serverError.kind == .readOnly {
                    connection.close()
                    pool.closeAll()
                    self.replicatedWrites.dropAll()
                }
                let until = readOnlyUntil ?? self.configuration.failoverDeadline()
                readOnlyUntil = until
                if NIODeadline.now() + .milliseconds(50) < until {
                    attempt += 1
                    try await Task.sleep(nanoseconds: UInt64(TimeAmount.milliseconds(Int64(min(5 << min(attempt, 5), 100))).nanoseconds))
                    deadline = nil
                    continue
                }
            }
            if case .error(let serverError) = reply {
                if serverError.isRetryable, let deadline, deadline - .now() > .milliseconds(10) {
                    attempt += 1
                    let pause = TimeAmount.milliseconds(Int64(min(5 << min(attempt, 6), 100)))
                    try await Task.sleep(nanoseconds: UInt64(min(pause, deadline - .now()).nanoseconds))
                    continue
                }
                self.errorCounter.increment()
                throw serverError
            }
            self.commandTimer.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
            return reply
        }
    }

    /// Sends a command built from a name and arguments.
    @discardableResult
    public func send(_ name: String, _ arguments: RedisArgument..., timeout: TimeAmount? = nil) async throws -> RESPValue {
        try await self.send(RedisCommand(name, arguments), timeout: timeout)
    }

    /// Closes every connection. Later commands fail with ``RedisClientError/shutDown``.
    public func shutdown() async {
        self.sentinel?.shutdown()
        await self.replicatedWrites.shutdown()
        switch self.backend {
        case .node(let pool): await pool.shutdown()
        case .cluster(let router): await router.shutdown()
        }
    }
}

extension RedisClient: Service {
    /// Runs until graceful shutdown, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }
}

extension RedisClient {
    /// Runs `script` on its primary and then waits (`WAIT`) until `replicas` replicas acknowledged it
    /// or `timeout` passed, on a connection per primary that serves only such writes, so the shared
    /// pipelined connections never block. `replicas: nil` waits for one replica when the primary has
    /// any and for none on a lone node. The answer says how many acknowledged; the caller decides what
    /// a shortfall means.
    public func evaluateReplicated(
        _ script: RedisScript,
        keys: [RedisArgument],
        arguments: [RedisArgument] = [],
        replicas: Int?,
        timeout: TimeAmount
    ) async throws -> ReplicatedReply {
        try await self.replicatedWrites.send(script, keys: keys, arguments: arguments, replicas: replicas, timeout: timeout, client: self)
    }
}
