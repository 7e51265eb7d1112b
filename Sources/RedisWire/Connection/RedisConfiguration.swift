import NIOCore
import NIOSSL

/// Where and how to connect to Redis. Every property has a default.
public struct RedisConfiguration: Sendable {
    /// Connect and command timeouts.
    public struct Timeouts: Sendable {
        /// How long a TCP (and TLS) connect plus handshake may take.
        public var connect: TimeAmount
        /// How long a command may wait for its reply before it fails and its connection is closed.
        public var command: TimeAmount

        /// Timeouts with defaults: connect 1 s, command 250 ms.
        public init(connect: TimeAmount = .seconds(1), command: TimeAmount = .milliseconds(250)) {
            self.connect = connect
            self.command = command
        }
    }

    /// Reconnect back-off after a failed connect.
    public struct Backoff: Sendable {
        /// First delay after a failure.
        public var initial: TimeAmount
        /// Largest delay.
        public var maximum: TimeAmount

        /// Back-off doubling from 25 ms to at most 1 s.
        public init(initial: TimeAmount = .milliseconds(25), maximum: TimeAmount = .seconds(1)) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    /// How the servers are found: one node (the default), a Sentinel-managed primary, or a Cluster.
    public var topology: RedisTopology = .standalone
    /// Server host name or address (one node; for Sentinel and Cluster, the node a connection is for).
    public var host: String
    /// Server port.
    public var port: Int
    /// ACL user name for `AUTH user password` (nil: `AUTH password` or none).
    public var username: String?
    /// Password for `AUTH` (nil: no AUTH).
    public var password: String?
    /// Database selected with `SELECT` (0: none sent).
    public var database: Int
    /// TLS settings for `rediss://` (nil: plain TCP).
    public var tls: TLSConfiguration?
    /// The name sent with `CLIENT SETNAME` (nil: none).
    public var clientName: String?
    /// Number of pipelined connections in the pool.
    public var poolSize: Int
    /// Timeouts.
    public var timeouts: Timeouts
    /// Reconnect back-off.
    public var backoff: Backoff
    /// Largest reply accepted before the stream is treated as hostile.
    public var maximumReplyBytes: Int
    /// How long a command may keep waiting out a failover (Cluster: `TRYAGAIN`, `CLUSTERDOWN`,
    /// `MASTERDOWN`, `LOADING`, a primary that refuses connections; any mode: `READONLY` from a demoted
    /// primary) before its last error is returned.
    public var failoverBudget: TimeAmount = .seconds(5)

    /// The moment a failover wait that starts now must end: `failoverBudget` from now, or earlier when
    /// an enclosing operation's budget ends first (a durable logout's routed fallback, a resend after a
    /// write pause): one request waits out one budget, however many layers retry.
    func failoverDeadline() -> NIODeadline {
        let own = NIODeadline.now() + self.failoverBudget
        guard let enclosing = FailoverDeadline.current else { return own }
        return min(own, enclosing)
    }
    /// How long past its deadline the oldest unanswered command on a connection may stay before the
    /// connection counts as dead and is closed (a command that times out fails alone before that).
    public var deadConnectionTimeout: TimeAmount = .seconds(2)
    /// When set, every new connection reads the server's version (`INFO server`) and refuses a server
    /// older than this with ``RedisClientError/Code/unsupportedServer``.
    public var minimumServerVersion: RedisServerVersion? = nil

    /// A configuration with defaults for everything.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        tls: TLSConfiguration? = nil,
        clientName: String? = nil,
        poolSize: Int = 2,
        timeouts: Timeouts = .init(),
        backoff: Backoff = .init(),
        maximumReplyBytes: Int = 64 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.clientName = clientName
        self.poolSize = poolSize
        self.timeouts = timeouts
        self.backoff = backoff
        self.maximumReplyBytes = maximumReplyBytes
    }

    /// Parses a Redis URL; every mode has one grammar:
    /// - `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS with system trust roots): one node;
    /// - `redis+sentinel://[user:password@]host1[:26379],host2…/<master-name>[?sentinel_username=…&sentinel_password=…]`
    ///   (`rediss+sentinel://`: TLS to the data nodes): the primary that the sentinels name. The
    ///   user and password are the data nodes'; the sentinels get the same unless the query names theirs;
    /// - `redis+cluster://[user:password@]host1[:6379],host2…` (`rediss+cluster://`): the seed nodes of a
    ///   Redis Cluster. A database number is refused (a cluster has only database 0).
    ///
    /// The password is percent-decoded. Errors name the part that is wrong and never echo the password.
    public init(url: String) throws(RedisClientError) {
        self.init()
        enum Mode { case standalone, sentinel, cluster }
        let schemes: [(String, Mode, Bool)] = [
            ("redis://", .standalone, false), ("rediss://", .standalone, true),
            ("redis+sentinel://", .sentinel, false), ("rediss+sentinel://", .sentinel, true),
            ("redis+cluster://", .cluster, false), ("rediss+cluster://", .cluster, true),
        ]
        guard let (prefix, mode, tls) = schemes.first(where: { url.hasPrefix($0.0) }) else {
            throw RedisClientError(
                .invalidConfiguration,
                "Redis URL scheme must be redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://"
            )
        }
        var rest = url.dropFirst(prefix.count)
        var query: [(String, String)] = []
        if let queryStart = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: queryStart)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((String(parts[0]), parts.count > 1 ? Self.percentDecode(parts[1]) : ""))
            }
            rest = rest[..<queryStart]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = Self.percentDecode(userInfo[..<colon])
                self.username = user.isEmpty ? nil : user
                self.password = Self.percentDecode(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                // `redis://password@host` is a common legacy form.
                self.password = Self.percentDecode(userInfo)
            }
        }
        if tls {
            self.tls = TLSConfiguration.makeClientConfiguration()
        }
        switch mode {
        case .standalone:
            guard query.isEmpty else { throw RedisClientError(.invalidConfiguration, "Redis URL query parameters are only for redis+sentinel://") }
            let endpoints = try Self.endpoints(rest, defaultPort: 6379)
            guard endpoints.count == 1 else {
                throw RedisClientError(.invalidConfiguration, "Redis URL lists several hosts; use redis+cluster:// or redis+sentinel:// for more than one")
            }
            self.host = endpoints[0].host
            self.port = endpoints[0].port
            if !path.isEmpty {
                guard let database = Int(path), database >= 0 else {
                    throw RedisClientError(.invalidConfiguration, "Redis URL has an invalid database number")
                }
                self.database = database
            }
        case .sentinel:
            let sentinels = try Self.endpoints(rest, defaultPort: 26379)
            guard !path.isEmpty, !path.contains("/") else {
                throw RedisClientError(.invalidConfiguration, "Redis Sentinel URL needs the master name as its path: redis+sentinel://host:26379/<master-name>")
            }
            var sentinel = RedisSentinelConfiguration(sentinels: sentinels, masterName: Self.percentDecode(path), username: self.username, password: self.password)
            for (name, value) in query {
                switch name {
                case "sentinel_username": sentinel.username = value.isEmpty ? nil : value
                case "sentinel_password": sentinel.password = value.isEmpty ? nil : value
                default: throw RedisClientError(.invalidConfiguration, "Redis Sentinel URL has an unknown query parameter (use sentinel_username, sentinel_password)")
                }
            }
            self.topology = .sentinel(sentinel)
            self.host = sentinels[0].host
            self.port = 6379
        case .cluster:
            guard query.isEmpty else { throw RedisClientError(.invalidConfiguration, "Redis URL query parameters are only for redis+sentinel://") }
            guard path.isEmpty else {
                throw RedisClientError(.invalidConfiguration, "Redis Cluster URL has a database number; a cluster has only database 0")
            }
            let seeds = try Self.endpoints(rest, defaultPort: 6379)
            self.topology = .cluster(seeds: seeds)
            self.host = seeds[0].host
            self.port = seeds[0].port
        }
    }

    /// `host[:port],host[:port]…` with IPv6 hosts in brackets.
    private static func endpoints(_ text: Substring, defaultPort: Int) throws(RedisClientError) -> [RedisEndpoint] {
        var endpoints: [RedisEndpoint] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var hostPart = part
            var portPart: Substring? = nil
            if hostPart.hasPrefix("[") {
                guard let close = hostPart.firstIndex(of: "]") else {
                    throw RedisClientError(.invalidConfiguration, "Redis URL has an unterminated IPv6 address")
                }
                let after = hostPart[hostPart.index(after: close)...]
                if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty {
                    throw RedisClientError(.invalidConfiguration, "Redis URL has text after an IPv6 address")
                }
                hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            } else if let colon = hostPart.lastIndex(of: ":") {
                portPart = hostPart[hostPart.index(after: colon)...]
                hostPart = hostPart[..<colon]
            }
            guard !hostPart.isEmpty else {
                throw RedisClientError(.invalidConfiguration, "Redis URL has no host\(text.contains(",") ? " in its host list" : "")")
            }
            var port = defaultPort
            if let portPart {
                guard let parsed = Int(portPart), (1...65535).contains(parsed) else {
                    throw RedisClientError(.invalidConfiguration, "Redis URL has an invalid port")
                }
                port = parsed
            }
            endpoints.append(RedisEndpoint(host: String(hostPart), port: port))
        }
        return endpoints
    }

    private static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A Redis server's address.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: Int

    /// An endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` as Redis writes it in `MOVED`/`ASK` and `CLUSTER SHARDS` (IPv6 unbracketed).
    public var description: String { "\(self.host):\(self.port)" }

    /// Parses Redis's `host:port` (the last colon separates the port, so IPv6 works).
    public init?(redisAddress text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        let host = text[..<colon]
        guard !host.isEmpty else { return nil }
        self.init(host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : String(host), port: port)
    }
}

/// How the Redis servers are found.
public enum RedisTopology: Sendable, Hashable {
    /// One node: ``RedisConfiguration/host`` and ``RedisConfiguration/port``.
    case standalone
    /// The primary that a set of sentinels names.
    case sentinel(RedisSentinelConfiguration)
    /// A Redis Cluster, discovered from its seed nodes.
    case cluster(seeds: [RedisEndpoint])
}

/// Where the sentinels are and which primary to ask them for.
public struct RedisSentinelConfiguration: Sendable, Hashable {
    /// The sentinels.
    public var sentinels: [RedisEndpoint]
    /// The name the sentinels monitor the primary under.
    public var masterName: String
    /// ACL user for the sentinels (nil: none).
    public var username: String?
    /// Password for the sentinels (nil: none).
    public var password: String?

    /// A Sentinel configuration.
    public init(sentinels: [RedisEndpoint], masterName: String, username: String? = nil, password: String? = nil) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
    }
}

/// The failover deadline of the operation the current task is running (see
/// ``RedisConfiguration/failoverDeadline()``).
enum FailoverDeadline {
    @TaskLocal static var current: NIODeadline?
}
