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
        var configuration = self.configuration
        if case .cluster(let router) = self.backend {
            let topology = try await router.topology()
            let endpoint = key.flatMap { topology.owner(of: HashSlot.of($0.bytes)) } ?? topology.primaries.first
            guard let endpoint else { throw RedisClientError(.unavailable, "no cluster primary for a dedicated connection") }
            configuration.topology = .standalone
            configuration.host = endpoint.host
            configuration.port = endpoint.port
        }
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
                let until = readOnlyUntil ?? (start + self.configuration.failoverBudget)
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
