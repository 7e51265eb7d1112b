import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A fixed number of pipelined connections.
///
/// Slot `i` lives on event loop `i mod loops`. A caller running on an event loop (a request task
/// pinned to its connection's loop) gets that loop's connection, so the command, its reply and the
/// caller's continuation never leave the thread; other callers are served round-robin.
///
/// Connections are opened lazily and re-opened after they die. After a failed connect a slot waits
/// out an exponential back-off; while every slot is dead and backing off, requests fail at once
/// with ``RedisClientError/Code/unavailable`` instead of piling up.
final class RedisConnectionPool: Sendable {
    private enum Slot {
        case idle
        case connecting(EventLoopFuture<RedisConnection>)
        case connected(RedisConnection)
        case backingOff(until: NIODeadline, failures: Int, lastError: RedisClientError)
    }

    private struct State {
        var slots: [Slot]
        var failures: [Int]
        var next = 0
        var isShutDown = false
        /// The last "unsupported server" reason logged, so that reconnects do not repeat it.
        var reportedUnsupportedServer: String? = nil
    }

    private let configuration: RedisConfiguration
    /// Where each new connection goes (Sentinel: asked anew on every connect); nil: the configuration's host and port.
    private let resolver: SentinelResolver?
    private let eventLoops: [any EventLoop]
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    init(configuration: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger, resolver: SentinelResolver? = nil) {
        self.configuration = configuration
        self.resolver = resolver
        self.eventLoops = Array(eventLoopGroup.makeIterator())
        self.logger = logger
        let size = max(1, configuration.poolSize)
        self.state = NIOLockedValueBox(State(slots: Array(repeating: .idle, count: size), failures: Array(repeating: 0, count: size)))
    }

    /// Counts of slots by state, for metrics and readiness.
    var statistics: (connected: Int, total: Int) {
        self.state.withLockedValue { state in
            let connected = state.slots.reduce(0) { count, slot in
                if case .connected(let connection) = slot, connection.isActive { return count + 1 }
                return count
            }
            return (connected, state.slots.count)
        }
    }

    /// A live connection, opening one if needed.
    func connection() async throws -> RedisConnection {
        enum Decision {
            case use(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case fail(RedisClientError)
        }
        let current = MultiThreadedEventLoopGroup.currentEventLoop
        let decision: Decision = self.state.withLockedValue { state in
            if state.isShutDown { return .fail(.shutDown) }
            if let current {
                for slot in state.slots {
                    if case .connected(let connection) = slot, connection.eventLoop === current, connection.isActive {
                        return .use(connection)
                    }
                }
            }
            let count = state.slots.count
            let start = state.next
            state.next = (start + 1) % count
            var firstPending: EventLoopFuture<RedisConnection>? = nil
            var lastError: RedisClientError? = nil
            let now = NIODeadline.now()
            for offset in 0..<count {
                let index = (start + offset) % count
                switch state.slots[index] {
                case .connected(let connection):
                    if connection.isActive { return .use(connection) }
                    // Died since last use: reconnect in the background.
                    let future = self.startConnect(slot: index, state: &state)
                    firstPending = firstPending ?? future
                case .connecting(let future):
                    firstPending = firstPending ?? future
                case .idle:
                    let future = self.startConnect(slot: index, state: &state)
                    firstPending = firstPending ?? future
                case .backingOff(let until, _, let error):
                    if until <= now {
                        let future = self.startConnect(slot: index, state: &state)
                        firstPending = firstPending ?? future
                    } else {
                        lastError = error
                    }
                }
            }
            if let firstPending { return .wait(firstPending) }
            return .fail(lastError ?? RedisClientError(.unavailable, "no Redis connection"))
        }
        switch decision {
        case .use(let connection): return connection
        case .wait(let future): return try await future.get()
        case .fail(let error): throw error
        }
    }

    /// Must be called with the lock held.
    private func startConnect(slot index: Int, state: inout State) -> EventLoopFuture<RedisConnection> {
        let eventLoop = self.eventLoops[index % self.eventLoops.count]
        let promise = eventLoop.makePromise(of: RedisConnection.self)
        state.slots[index] = .connecting(promise.futureResult)
        let configuration = self.configuration
        let logger = self.logger
        let resolver = self.resolver
        promise.completeWithTask {
            guard let resolver else {
                return try await RedisConnection.connect(configuration: configuration, eventLoop: eventLoop, logger: logger)
            }
            // Sentinel client protocol: ask the sentinels on every connect, then check ROLE.
            var target = configuration
            let primary = try await resolver.primary()
            target.host = primary.host
            target.port = primary.port
            let connection = try await RedisConnection.connect(configuration: target, eventLoop: eventLoop, logger: logger)
            do {
                let role = try await connection.send(RedisCommand("ROLE"), timeout: configuration.timeouts.connect).get()
                guard role.array?.first?.string == "master" else {
                    throw RedisClientError(.unavailable, "\(primary) is not a primary (yet); the sentinels will name the new one")
                }
            } catch {
                connection.close()
                throw error
            }
            return connection
        }
        promise.futureResult.whenComplete { result in
            self.connectFinished(slot: index, result: result)
        }
        return promise.futureResult
    }

    private func connectFinished(slot index: Int, result: Result<RedisConnection, any Error>) {
        var reportUnsupported: String? = nil
        let orphan: RedisConnection? = self.state.withLockedValue { state in
            switch result {
            case .success(let connection):
                if state.isShutDown { return connection }
                state.failures[index] = 0
                state.slots[index] = .connected(connection)
                state.reportedUnsupportedServer = nil
                return nil
            case .failure(let error):
                let clientError = (error as? RedisClientError) ?? RedisClientError(.unavailable, "\(error)")
                if clientError.code == .unsupportedServer, state.reportedUnsupportedServer != clientError.reason {
                    state.reportedUnsupportedServer = clientError.reason
                    reportUnsupported = clientError.reason
                }
                state.failures[index] += 1
                let exponent = min(state.failures[index] - 1, 16)
                let delay = min(
                    self.configuration.backoff.initial.nanoseconds << exponent,
                    self.configuration.backoff.maximum.nanoseconds
                )
                state.slots[index] = .backingOff(
                    until: .now() + .nanoseconds(delay),
                    failures: state.failures[index],
                    lastError: clientError
                )
                return nil
            }
        }
        if let orphan { orphan.close() }
        if let reportUnsupported {
            self.logger.error(
                "Redis server refused: too old",
                metadata: ["redis.host": "\(self.configuration.host):\(self.configuration.port)", "redis.error": "\(reportUnsupported)"]
            )
        }
        if case .failure(let error) = result {
            self.logger.debug("redis connect failed", metadata: ["redis.error": "\(error)"])
        }
    }

    /// Closes every open connection (the primary moved); the next requests open new ones.
    func closeAll() {
        let open: [RedisConnection] = self.state.withLockedValue { state in
            var open: [RedisConnection] = []
            for index in state.slots.indices {
                if case .connected(let connection) = state.slots[index] {
                    open.append(connection)
                    state.slots[index] = .idle
                }
            }
            return open
        }
        for connection in open { connection.close() }
    }

    /// Closes every connection; later requests fail with ``RedisClientError/shutDown``.
    func shutdown() async {
        let connections: [RedisConnection] = self.state.withLockedValue { state in
            state.isShutDown = true
            var open: [RedisConnection] = []
            for slot in state.slots {
                if case .connected(let connection) = slot { open.append(connection) }
            }
            state.slots = state.slots.map { _ in .idle }
            return open
        }
        for connection in connections {
            await connection.closeAndWait()
        }
    }
}
