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
    let pool: RedisConnectionPool
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
        self.pool = RedisConnectionPool(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.commandTimer = Metrics.Timer(label: "redis_command_duration_seconds", preferredDisplayUnit: .seconds)
        self.errorCounter = Counter(label: "redis_command_errors_total")
    }

    /// Connections open and alive, and the pool's size.
    public var poolStatistics: (connected: Int, total: Int) { self.pool.statistics }

    /// Sends a command and returns its reply.
    ///
    /// An error reply is thrown as ``RedisServerError``; a `-LOADING` (or other retryable) reply is
    /// retried until the command's deadline. Connection failures and timeouts throw ``RedisClientError``.
    ///
    /// - Parameter timeout: overrides the configured command timeout for this command.
    @discardableResult
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        let timeout = timeout ?? self.configuration.timeouts.command
        let start = NIODeadline.now()
        // The command's deadline starts once it has a connection; opening one is bounded by the
        // connect timeout, and fails at once while Redis is known to be down (back-off).
        var deadline: NIODeadline? = nil
        var attempt = 0
        while true {
            let reply: RESPValue
            do {
                let connection = try await self.pool.connection()
                let commandDeadline = deadline ?? (NIODeadline.now() + timeout)
                deadline = commandDeadline
                let remaining = commandDeadline - .now()
                guard remaining > .zero else { throw RedisClientError.commandTimeout }
                reply = try await connection.send(command, timeout: remaining).get()
            } catch {
                self.errorCounter.increment()
                throw error
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
        await self.pool.shutdown()
    }
}

extension RedisClient: Service {
    /// Runs until graceful shutdown, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
