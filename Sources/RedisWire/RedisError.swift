/// The stream from the server violated RESP, or a reply arrived that nobody asked for.
public struct RedisProtocolError: Error, Sendable, Hashable {
    /// What went wrong (never a key or value).
    public let message: String
}

/// An error from the Redis client layer. Compare with the static members or switch on ``code``.
public struct RedisClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of a client error.
    public enum Code: Sendable, Hashable {
        /// The connection closed while the command was in flight, or before it was sent.
        case connectionClosed
        /// No connection to Redis could be had (refused, unreachable, in back-off after failures).
        case unavailable
        /// The connect did not finish within the connect timeout.
        case connectTimeout
        /// The command got no reply within its timeout. It fails alone: its late reply is dropped.
        case commandTimeout
        /// The server broke the protocol; the connection was closed.
        case protocolViolation
        /// AUTH was refused (wrong user/password, or authentication required).
        case authenticationFailed
        /// The client has been shut down.
        case shutDown
        /// The configuration (URL, TLS) is invalid.
        case invalidConfiguration
        /// The server is older than ``RedisConfiguration/minimumServerVersion``.
        case unsupportedServer
        /// The command cannot run on a shared pipelined connection (see ``RedisClient/withDedicatedConnection(forKey:_:)``).
        case invalidCommand
    }

    /// The error's class.
    public let code: Code
    /// Details for humans and logs; never contains keys, values or passwords.
    public let reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public var description: String { "\(self.code): \(self.reason)" }

    /// The connection closed before the reply arrived.
    public static let connectionClosed = Self(.connectionClosed, "connection closed")
    /// The client has been shut down.
    public static let shutDown = Self(.shutDown, "client shut down")
    /// A command timed out.
    public static let commandTimeout = Self(.commandTimeout, "command timed out")

    /// Whether the failure says "Redis could not be reached in time" (as opposed to a bad command).
    public var isUnavailability: Bool {
        switch self.code {
        case .connectionClosed, .unavailable, .connectTimeout, .commandTimeout, .protocolViolation, .shutDown:
            return true
        case .authenticationFailed, .invalidConfiguration, .unsupportedServer, .invalidCommand:
            return false
        }
    }
}
