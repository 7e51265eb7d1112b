/// Where sessions live in Redis. See docs/redis-layout.md.
///
/// ```
/// <prefix>{<tag>}:s:<digest>   string: the session record (TTL = min(idle deadline, absolute deadline))
/// <prefix>{<tag>}:u:<user>     sorted set: the user's session digests, scored by creation order
/// ```
/// `{<tag>}` is the Redis Cluster hash tag, so one operation touches one slot. No key holds a token.
public struct KeyLayout: Sendable, Hashable {
    /// Prepended to every key (e.g. `sessiond:`); must not contain `{` or `}`.
    public let prefix: String

    /// A layout under `prefix`.
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// The record key of a session.
    public func sessionKey(_ handle: SessionHandle) -> String {
        self.sessionKeyPrefix(handle.slotTag) + handle.digest
    }

    /// Everything before the digest in the record keys of one slot tag.
    public func sessionKeyPrefix(_ tag: SlotTag) -> String {
        "\(self.prefix){\(tag.value)}:s:"
    }

    /// Everything before the user digest in the index keys of one slot tag.
    public func userIndexKeyPrefix(_ tag: SlotTag) -> String {
        "\(self.prefix){\(tag.value)}:u:"
    }

    /// The index key of a user's sessions.
    public func userIndexKey(userID: String) -> String {
        self.userIndexKeyPrefix(SlotTag(userID: userID)) + UserDigest(userID: userID).value
    }
}
