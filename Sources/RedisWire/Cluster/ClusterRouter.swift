import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Routes commands to the primaries of a Redis Cluster.
///
/// - **Discovery**: `CLUSTER SHARDS` from any known node (the seeds, then the primaries seen) builds
///   a slot map (``ClusterTopology``); each primary gets its own pipelined ``RedisConnectionPool``.
/// - **Routing**: a command goes to the owner of its first key's slot; keyless commands go to any
///   primary. Reads never go to replicas.
/// - **Redirects**: `MOVED` updates the map and retries at once; `ASK` sends `ASKING` and the command
///   back to back on one connection, once.
/// - **Waiting out a failover**: `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`, `READONLY` and a
///   script's "non local key" during a slot migration, and a connect to a slot owner that fails, are
///   retried with back-off until the failover budget is spent; every one of them means the command
///   did not run, so a retry never applies it twice. A command whose connection died after it was sent
///   is not retried here (the caller decides: sessiond's scripts are safe to resend).
/// - **Refreshes** of the map run one at a time, at most one per 100–250 ms (jittered), after a
///   refused connection, a redirect to an unknown node or `CLUSTERDOWN`, and every 30 s; a refresh is
///   never locked out for longer than that.
final class ClusterRouter: Sendable {
    private struct State {
        var topology: ClusterTopology?
        var pools: [RedisEndpoint: RedisConnectionPool] = [:]
        var refresh: Task<Void, Never>? = nil
        var lastRefresh: NIODeadline = .uptimeNanoseconds(0)
        var periodic: Task<Void, Never>? = nil
        var isShutDown = false
    }

    let configuration: RedisConfiguration
    private let seeds: [RedisEndpoint]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(configuration: RedisConfiguration, seeds: [RedisEndpoint], eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.seeds = seeds
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The pool of `endpoint`, created on first use.
    func pool(for endpoint: RedisEndpoint) throws -> RedisConnectionPool {
        try self.state.withLockedValue { state in
            if state.isShutDown { throw RedisClientError.shutDown }
            if let pool = state.pools[endpoint] { return pool }
            let pool = RedisConnectionPool(configuration: self.configuration(for: endpoint), eventLoopGroup: self.eventLoopGroup, logger: self.logger)
            state.pools[endpoint] = pool
            return pool
        }
    }

    /// How to connect to one node of the cluster.
    func configuration(for endpoint: RedisEndpoint) -> RedisConfiguration {
        var configuration = self.configuration
        configuration.topology = .standalone
        configuration.host = endpoint.host
        configuration.port = endpoint.port
        configuration.database = 0
        return configuration
    }

    /// The current primaries (after a first discovery).
    func primaries() async throws -> [RedisEndpoint] {
        try await self.topology().primaries
    }

    /// Connections open and alive over every node's pool, and the pools' size.
    var statistics: (connected: Int, total: Int) {
        let pools = self.state.withLockedValue { Array($0.pools.values) }
        return pools.reduce((0, 0)) { total, pool in
            let statistics = pool.statistics
            return (total.0 + statistics.connected, total.1 + statistics.total)
        }
    }

    // MARK: Sending

    /// Sends `command` to its slot's primary (or `endpoint` when given), following redirects and
    /// waiting out failovers within the budget. Error replies other than those are returned as values.
    func send(_ command: RedisCommand, timeout: TimeAmount, to endpoint: RedisEndpoint? = nil) async throws -> RESPValue {
        let budgetDeadline = self.configuration.failoverDeadline()
        var redirects = 0
        var attempt = 0
        var asking: RedisEndpoint? = nil
        var lastError: any Error = RedisClientError(.unavailable, "no cluster node answered")
        while true {
            let target: RedisEndpoint
            if let asking {
                target = asking
            } else if let endpoint {
                target = endpoint
            } else {
                let topology = try await self.topology()
                if let slot = command.slot {
                    guard let owner = topology.owner(of: slot) else {
                        lastError = RedisClientError(.unavailable, "no healthy primary serves slot \(slot)")
                        self.requestRefresh()
                        try await self.pause(&attempt, until: budgetDeadline, lastError: lastError)
                        continue
                    }
                    target = owner
                } else {
                    guard let any = topology.primaries.randomElement() else {
                        lastError = RedisClientError(.unavailable, "the cluster has no primary")
                        self.requestRefresh()
                        try await self.pause(&attempt, until: budgetDeadline, lastError: lastError)
                        continue
                    }
                    target = any
                }
            }
            let reply: RESPValue
            let connection: RedisConnection
            do {
                connection = try await self.pool(for: target).connection()
            } catch let error as RedisClientError where error.code != .shutDown && error.code != .authenticationFailed {
                // Not sent: safe to try again once the map is fresh.
                lastError = error
                asking = nil
                self.requestRefresh()
                try await self.pause(&attempt, until: budgetDeadline, lastError: lastError)
                continue
            }
            if asking != nil {
                let askingReply = connection.send(RedisCommand("ASKING"), timeout: timeout)
                reply = try await connection.send(command, timeout: timeout).get()
                _ = try? await askingReply.get()
                asking = nil
            } else {
                reply = try await connection.send(command, timeout: timeout).get()
            }
            guard case .error(let error) = reply else { return reply }
            switch error.kind {
            case .moved, .ask:
                guard let redirect = error.redirect, let destination = RedisEndpoint(redisAddress: redirect.address) else { return reply }
                redirects += 1
                guard redirects <= 8 else { return reply }
                if error.kind == .moved {
                    let known = self.state.withLockedValue { state -> Bool in
                        let known = state.topology?.primaries.contains(destination) ?? false
                        state.topology?.assign(slot: redirect.slot, to: destination)
                        return known
                    }
                    if !known { self.requestRefresh() }
                } else {
                    asking = destination
                }
                continue
            case .clusterUnavailable, .loading, .readOnly, .noReplicas:
                if error.kind == .readOnly { connection.close() }
                if error.kind != .loading { self.requestRefresh() }
                lastError = error
                try await self.pause(&attempt, until: budgetDeadline, lastError: lastError)
                continue
            case .generic where error.message.contains("non local key") || error.message.contains("non-local key"):
                // A script touched a key that moved in a slot migration: nothing ran past the check.
                lastError = error
                try await self.pause(&attempt, until: budgetDeadline, lastError: lastError)
                continue
            default:
                return reply
            }
        }
    }

    /// Sleeps before the next attempt (5 ms doubling to 100 ms, jittered), or throws `lastError`
    /// when the budget would be spent.
    private func pause(_ attempt: inout Int, until deadline: NIODeadline, lastError: any Error) async throws {
        attempt += 1
        let base = Int64(min(5 << min(attempt, 5), 100))
        let delay = TimeAmount.milliseconds(Int64.random(in: (base / 2)...base))
        guard NIODeadline.now() + delay < deadline else { throw lastError }
        try await Task.sleep(nanoseconds: UInt64(delay.nanoseconds))
    }

    // MARK: Topology

    /// The slot map, discovering it first if there is none yet.
    func topology() async throws -> ClusterTopology {
        if let topology = self.state.withLockedValue({ $0.topology }) { return topology }
        await self.refreshNow()
        guard let topology = self.state.withLockedValue({ $0.topology }) else {
            throw RedisClientError(.unavailable, "no cluster node answered CLUSTER SHARDS (seeds: \(self.seeds.map(\.description).joined(separator: ", ")))")
        }
        return topology
    }

    /// Asks for a refresh; returns at once. Refreshes run one at a time, at most one per 100–250 ms.
    func requestRefresh() {
        _ = self.startRefresh()
    }

    /// Runs a refresh (or joins the one running) and waits for it.
    func refreshNow() async {
        await self.startRefresh()?.value
    }

    private func startRefresh() -> Task<Void, Never>? {
        self.state.withLockedValue { state -> Task<Void, Never>? in
            if state.isShutDown { return nil }
            if let running = state.refresh { return running }
            let spacing = TimeAmount.milliseconds(Int64.random(in: 100...250))
            let wait = state.lastRefresh + spacing - .now()
            let task = Task {
                if wait > .zero { try? await Task.sleep(nanoseconds: UInt64(wait.nanoseconds)) }
                await self.discover()
                self.state.withLockedValue { state in
                    state.refresh = nil
                    state.lastRefresh = .now()
                }
            }
            state.refresh = task
            if state.periodic == nil {
                state.periodic = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: 30_000_000_000)
                        if Task.isCancelled { return }
                        self.requestRefresh()
                    }
                }
            }
            return task
        }
    }

    /// Reads `CLUSTER SHARDS` from the first node that answers: the primaries known, then the seeds.
    private func discover() async {
        let known = self.state.withLockedValue { $0.topology?.primaries ?? [] }
        var candidates = known.shuffled()
        for seed in self.seeds where !candidates.contains(seed) { candidates.append(seed) }
        for candidate in candidates {
            do {
                let connection = try await self.pool(for: candidate).connection()
                let reply = try await connection.send(RedisCommand("CLUSTER", "SHARDS"), timeout: self.configuration.timeouts.connect).get()
                if case .error = reply { continue }
                let topology = try ClusterTopology(shards: reply)
                guard !topology.primaries.isEmpty else { continue }
                let stale: [RedisConnectionPool] = self.state.withLockedValue { state in
                    state.topology = topology
                    // Pools of nodes that are neither primaries nor seeds any more are closed.
                    var stale: [RedisConnectionPool] = []
                    for (endpoint, pool) in state.pools where !topology.primaries.contains(endpoint) && !self.seeds.contains(endpoint) {
                        stale.append(pool)
                        state.pools[endpoint] = nil
                    }
                    return stale
                }
                for pool in stale { await pool.shutdown() }
                self.logger.debug("redis cluster topology", metadata: ["redis.primaries": "\(topology.primaries.count)", "redis.slots": "\(topology.coveredSlots)"])
                return
            } catch {
                continue
            }
        }
        self.logger.warning("redis cluster: no node answered CLUSTER SHARDS", metadata: ["redis.nodes": "\(candidates.count)"])
    }

    func shutdown() async {
        let (pools, tasks) = self.state.withLockedValue { state in
            state.isShutDown = true
            let result = (Array(state.pools.values), [state.refresh, state.periodic].compactMap { $0 })
            state.pools = [:]
            return result
        }
        for task in tasks { task.cancel() }
        for pool in pools { await pool.shutdown() }
    }
}
