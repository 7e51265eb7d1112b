/// An error reply sent by the Redis server, classified by its prefix so callers can switch on ``Kind``.
public struct RedisServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of a server error, taken from the first word of the reply.
    public enum Kind: Sendable, Hashable {
        /// `-ERR`: a generic error.
        case generic
        /// `-MOVED slot host:port`: the slot lives on another cluster node.
        case moved
        /// `-ASK slot host:port`: a one-off redirect during slot migration.
        case ask
        /// `-LOADING`: the server is loading its dataset; retry later.
        case loading
        /// `-READONLY`: a write was sent to a replica.
        case readOnly
        /// `-NOAUTH`: authentication is required.
        case noAuth
        /// `-WRONGPASS`: the user name or password is wrong.
        case wrongPassword
        /// `-NOPERM`: the ACL user lacks the permission.
        case noPermission
        /// `-WRONGTYPE`: the key holds another type.
        case wrongType
        /// `-NOSCRIPT`: no script with that SHA1 is cached.
        case noScript
        /// `-BUSY`: a script is running too long.
        case busy
        /// `-TRYAGAIN`, `-CLUSTERDOWN`, `-MASTERDOWN`: transient cluster conditions.
        case clusterUnavailable
        /// `-OOM`: the server is out of memory under its `maxmemory` policy.
        case outOfMemory
        /// `-NOREPLICAS`: a primary configured with `min-replicas-to-write` lost its replicas (for
        /// example a stale primary after a failover); the write did not run.
        case noReplicas
        /// Any other prefix.
        case other(String)
    }

    /// The error's class.
    public let kind: Kind
    /// The whole error line as the server sent it (without the leading `-`).
    public let message: String

    /// Classifies an error line such as `MOVED 3999 127.0.0.1:6381`.
    public init(message: String) {
        self.message = message
        let prefix = message.prefix { $0 != " " }
        switch prefix {
        case "ERR": self.kind = .generic
        case "MOVED": self.kind = .moved
        case "ASK": self.kind = .ask
        case "LOADING": self.kind = .loading
        case "READONLY": self.kind = .readOnly
        case "NOAUTH": self.kind = .noAuth
        case "WRONGPASS": self.kind = .wrongPassword
        case "NOPERM": self.kind = .noPermission
        case "WRONGTYPE": self.kind = .wrongType
        case "NOSCRIPT": self.kind = .noScript
        case "BUSY": self.kind = .busy
        case "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN": self.kind = .clusterUnavailable
        case "OOM": self.kind = .outOfMemory
        case "NOREPLICAS": self.kind = .noReplicas
        default: self.kind = .other(String(prefix))
        }
    }

    /// For `MOVED`/`ASK`: the slot and the `host:port` to go to.
    public var redirect: (slot: Int, address: String)? {
        guard self.kind == .moved || self.kind == .ask else { return nil }
        let parts = self.message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]) else { return nil }
        return (slot, String(parts[2]))
    }

    /// Whether the same command may succeed if sent again a little later.
    public var isRetryable: Bool {
        switch self.kind {
        case .loading, .busy, .clusterUnavailable: return true
        default: return false
        }
    }

    public var description: String { self.message }
}
