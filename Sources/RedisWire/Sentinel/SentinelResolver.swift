import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Finds the primary that a set of sentinels names, following the Sentinel client protocol:
/// - every new data connection asks the sentinels for the primary's address (the first sentinel that
///   answers moves to the front of the list) and checks `ROLE` on the connection it opens
///   (``RedisConnectionPool``);
/// - a `-READONLY` reply closes that connection, so the next one asks again (``RedisClient``);
/// - a subscription to `+switch-master` on one sentinel closes every connection to the old primary
///   at once when the sentinels switch. It is a speed-up, not the only signal: without it the
///   `READONLY` replies and `ROLE` checks still move sessiond to the new primary.
final class SentinelResolver: Sendable {
    private struct State {
        var order: [RedisEndpoint]
        var watch: Task<Void, Never>? = nil
        var isShutDown = false
    }

    private let sentinel: RedisSentinelConfiguration
    private let base: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    init(sentinel: RedisSentinelConfiguration, base: RedisConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.sentinel = sentinel
        self.base = base
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.state = NIOLockedValueBox(State(order: sentinel.sentinels))
    }

    /// A configuration for talking to `endpoint` as a sentinel (its own credentials, no TLS, no database).
    private func sentinelConfiguration(_ endpoint: RedisEndpoint) -> RedisConfiguration {
        var configuration = self.base
        configuration.topology = .standalone
        configuration.host = endpoint.host
        configuration.port = endpoint.port
        configuration.username = self.sentinel.username
        configuration.password = self.sentinel.password
        configuration.database = 0
        configuration.tls = nil
        configuration.clientName = nil
        configuration.minimumServerVersion = nil
        return configuration
    }

    /// The primary's address as the sentinels with the newest view report it: every sentinel that
    /// answers is asked (`SENTINEL MASTER`), and the answer with the highest `config-epoch` wins. Right
    /// after a failover some sentinels still name the old primary, which keeps calling itself master
    /// for a while (so its `ROLE` alone cannot tell); the epoch can.
    func primary() async throws -> RedisEndpoint {
        let order = self.state.withLockedValue { $0.order }
        var best: (epoch: Int, endpoint: RedisEndpoint)? = nil
        var lastError: any Error = RedisClientError(.unavailable, "no sentinel answered for master \(self.sentinel.masterName)")
        for endpoint in order {
            do {
                let connection = try await RedisConnection.connect(
                    configuration: self.sentinelConfiguration(endpoint), eventLoop: self.eventLoopGroup.next(), logger: self.logger
                )
                defer { connection.close() }
                let reply = try await connection.send(
                    RedisCommand("SENTINEL", "MASTER", RedisArgument(self.sentinel.masterName)),
                    timeout: self.base.timeouts.connect
                ).get()
                guard let fields = reply.array, fields.count % 2 == 0 else {
                    lastError = RedisClientError(.unavailable, "sentinel \(endpoint) does not know master \(self.sentinel.masterName)")
                    continue
                }
                var map: [String: String] = [:]
                var index = 0
                while index + 1 < fields.count {
                    if let key = fields[index].string, let value = fields[index + 1].string { map[key] = value }
                    index += 2
                }
                guard let host = map["ip"], let port = map["port"].flatMap({ Int($0) }) else { continue }
                let epoch = map["config-epoch"].flatMap { Int($0) } ?? 0
                if best == nil || epoch > best!.epoch { best = (epoch, RedisEndpoint(host: host, port: port)) }
            } catch {
                lastError = error
            }
        }
        guard let best else { throw lastError }
        return best.endpoint
    }

    /// Starts watching `+switch-master`; `onSwitch` runs when the sentinels switch our primary.
    func watch(onSwitch: @escaping @Sendable () -> Void) {
        let task = Task {
            var failures = 0
            while !Task.isCancelled {
                let order = self.state.withLockedValue { $0.order }
                for endpoint in order where !Task.isCancelled {
                    do {
                        let subscription = try await RedisClient.subscribe(
                            configuration: self.sentinelConfiguration(endpoint), channels: ["+switch-master"],
                            eventLoop: self.eventLoopGroup.next(), logger: self.logger
                        )
                        failures = 0
                        self.logger.debug("redis sentinel: watching +switch-master", metadata: ["redis.sentinel": "\(endpoint)"])
                        await withTaskCancellationHandler {
                            for await message in subscription {
                                self.logger.debug("redis sentinel: message", metadata: ["redis.channel": "\(message.channel)"])
                                let fields = String(buffer: message.payload).split(separator: " ")
                                if fields.first.map(String.init) == self.sentinel.masterName {
                                    self.logger.notice("redis sentinel: primary switched", metadata: ["redis.primary": "\(fields.dropFirst(3).joined(separator: ":"))"])
                                    onSwitch()
                                }
                            }
                        } onCancel: {
                            Task { await subscription.close() }
                        }
                    } catch {
                        self.logger.debug("redis sentinel: cannot watch", metadata: ["redis.sentinel": "\(endpoint)", "redis.error": "\(error)"])
                        failures += 1
                    }
                }
                try? await Task.sleep(nanoseconds: UInt64(min(100 << min(failures, 4), 1000)) * 1_000_000)
            }
        }
        self.state.withLockedValue { state in
            if state.isShutDown { task.cancel() } else { state.watch = task }
        }
    }

    func shutdown() {
        let task = self.state.withLockedValue { state -> Task<Void, Never>? in
            state.isShutDown = true
            return state.watch
        }
        task?.cancel()
    }
}
