/// A session as stored: times in Unix milliseconds, `data` and `metadata` as compact JSON bytes
/// (validated when written, spliced verbatim into responses).
public struct StoredSession: Sendable, Hashable {
    /// The session's public handle.
    public var handle: SessionHandle
    /// The user id as a JSON string literal (quoted, escaped).
    public var userIDJSON: [UInt8]
    /// Creation time.
    public var createdAt: Int64
    /// Last time the idle deadline was slid (resolves within the touch interval do not move it).
    public var lastSeenAt: Int64
    /// Idle timeout.
    public var idleTimeout: Int64
    /// Absolute deadline.
    public var expiresAt: Int64
    /// Incremented by every update.
    public var version: Int
    /// `metadata` object, compact JSON.
    public var metadataJSON: [UInt8]
    /// `data` object, compact JSON.
    public var dataJSON: [UInt8]

    /// The moment the session ends unless it is used again: the earlier of the idle and absolute deadlines.
    public var idleExpiresAt: Int64 { min(self.lastSeenAt + self.idleTimeout, self.expiresAt) }

    /// The user id as text.
    public var userID: String {
        if case .string(let text) = try? JSONParser.parse(self.userIDJSON) { return text }
        return ""
    }

    /// Whether the session is over at `now` (Unix ms).
    public func isExpired(at now: Int64) -> Bool {
        now >= self.expiresAt || now >= self.lastSeenAt + self.idleTimeout
    }

    /// The `data` object parsed.
    public func data() throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(self.dataJSON)
    }
}
