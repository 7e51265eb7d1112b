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

    /// Server host name or address.
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

    /// Parses `redis://[user:password@]host:port/db` or `rediss://…` (TLS with system trust roots).
    ///
    /// The password is percent-decoded. Errors never echo the password.
    public init(url: String) throws(RedisClientError) {
        self.init()
        let scheme: String
        var rest: Substring
        if url.hasPrefix("redis://") {
            scheme = "redis"
            rest = url.dropFirst("redis://".count)
        } else if url.hasPrefix("rediss://") {
            scheme = "rediss"
            rest = url.dropFirst("rediss://".count)
        } else {
            throw RedisClientError(.invalidConfiguration, "Redis URL must start with redis:// or rediss://")
        }
        if let queryStart = rest.firstIndex(of: "?") {
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
        var hostPart = rest
        var portPart: Substring? = nil
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else {
                throw RedisClientError(.invalidConfiguration, "Redis URL has an unterminated IPv6 address")
            }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else {
            throw RedisClientError(.invalidConfiguration, "Redis URL has no host")
        }
        self.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw RedisClientError(.invalidConfiguration, "Redis URL has an invalid port")
            }
            self.port = port
        }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw RedisClientError(.invalidConfiguration, "Redis URL has an invalid database number")
            }
            self.database = database
        }
        if scheme == "rediss" {
            self.tls = TLSConfiguration.makeClientConfiguration()
        }
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
