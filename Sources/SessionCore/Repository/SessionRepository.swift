/// What a new session is made of. Inputs are validated by the caller (the HTTP layer).
public struct NewSession: Sendable {
    /// The user id (1–256 bytes).
    public var userID: String
    /// The `data` object, compact JSON.
    public var dataJSON: [UInt8]
    /// The `metadata` object, compact JSON.
    public var metadataJSON: [UInt8]
    /// Idle timeout in milliseconds.
    public var idleTimeout: Int64
    /// Absolute timeout in milliseconds.
    public var absoluteTimeout: Int64

    /// A new-session request.
    public init(userID: String, dataJSON: [UInt8], metadataJSON: [UInt8], idleTimeout: Int64, absoluteTimeout: Int64) {
        self.userID = userID
        self.dataJSON = dataJSON
        self.metadataJSON = metadataJSON
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
    }
}

/// A session that was just issued a token (create or rotate).
public struct IssuedSession: Sendable {
    /// The new token: give it to the client, then forget it.
    public var token: SessionToken
    /// The stored session.
    public var session: StoredSession
    /// Sessions of the same user evicted to stay under the per-user limit.
    public var evicted: Int
}

/// How logouts (destroy, purge, rotate) are made durable against a failover: Redis replicates
/// asynchronously, so a `DEL` acknowledged by a primary that then fails over can be lost and the
/// revoked session come back. After such a write sessiond can `WAIT` for replicas.
public struct RevocationPolicy: Sendable {
    /// What a shortfall means.
    public enum Mode: String, Sendable, CaseIterable {
        /// Answer 503 when fewer replicas than required acknowledged (the caller retries; logout is idempotent).
        case strict
        /// Answer as usual; count the shortfall in a metric and a log line.
        case bestEffort = "best-effort"
    }

    /// Replicas to wait for; nil: one when the primary has replicas, none on a lone node.
    public var replicas: Int?
    /// How long to wait for them (ms).
    public var timeout: Int64
    /// What a shortfall means.
    public var mode: Mode

    /// Defaults: one replica when there are any, 100 ms, best effort.
    public init(replicas: Int? = nil, timeout: Int64 = 100, mode: Mode = .bestEffort) {
        self.replicas = replicas
        self.timeout = timeout
        self.mode = mode
    }
}

/// Rules the store applies on its own.
public struct StorePolicy: Sendable {
    /// A resolve rewrites `last_seen_at` (and slides the TTL) only when the last write is older than this (ms).
    public var touchInterval: Int64
    /// At most this many sessions per user; creating one more evicts the oldest.
    public var maximumSessionsPerUser: Int
    /// Stored records larger than this read as corrupt.
    public var maximumRecordBytes: Int
    /// Durable logout: how destroy, purge and rotate wait for replicas.
    public var revocation: RevocationPolicy = .init()

    /// How long after the last slide a resolve slides again: the touch interval, but at most half the
    /// idle timeout, so that a session used more often than its idle timeout never dies in use.
    public func touchInterval(idleTimeout: Int64) -> Int64 {
        min(self.touchInterval, idleTimeout / 2)
    }

    /// Defaults: touch at most every 60 s, 100 sessions per user, 1 MiB records.
    public init(touchInterval: Int64 = 60_000, maximumSessionsPerUser: Int = 100, maximumRecordBytes: Int = 1 << 20) {
        self.touchInterval = touchInterval
        self.maximumSessionsPerUser = maximumSessionsPerUser
        self.maximumRecordBytes = maximumRecordBytes
    }
}

/// A failure of the store itself (never "not found": absent sessions are `nil`/`false`).
public struct SessionStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unavailable
        case versionMismatch
        case conflict
    }

    private let code: Code
    /// For logs: what failed underneath (never keys, tokens or data).
    public let reason: String

    private init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The backing store could not be reached in time.
    public static func unavailable(_ reason: String) -> Self { Self(.unavailable, reason) }
    /// `If-Match` named a version that is not the current one.
    public static let versionMismatch = Self(.versionMismatch, "version mismatch")
    /// Concurrent updates kept winning; the caller may retry.
    public static let conflict = Self(.conflict, "too many concurrent updates")

    /// Whether the store was unreachable or too slow.
    public var isUnavailable: Bool { self.code == .unavailable }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
    public var description: String { "\(self.code): \(self.reason)" }
}

/// Session storage. Every operation is atomic; the Redis implementation makes each one a single
/// round trip (a Lua script) except `update`, which reads and then compares-and-sets.
public protocol SessionRepository: Sendable {
    /// Stores a new session under a fresh token, evicting the user's oldest sessions beyond the limit.
    func create(_ session: NewSession) async throws -> IssuedSession
    /// The live session of `token`, sliding its idle deadline (throttled). `nil` when there is none.
    func resolve(_ token: SessionToken) async throws -> StoredSession?
    /// Replaces `data` with `transform(current)`; increments the version. `nil` when there is no session.
    /// Throws ``SessionStoreError/versionMismatch`` when `expectedVersion` is not the current version.
    func update(
        _ token: SessionToken,
        expectedVersion: Int?,
        transform: @Sendable (StoredSession) throws -> [UInt8]
    ) async throws -> StoredSession?
    /// Moves the session to a new token; the old token stops working at once. `nil` when there is no session.
    func rotate(_ token: SessionToken) async throws -> IssuedSession?
    /// Destroys the session of `token`; whether there was one.
    @discardableResult
    func destroy(_ token: SessionToken) async throws -> Bool
    /// Destroys the session with `handle`; whether there was one.
    @discardableResult
    func destroy(handle: SessionHandle) async throws -> Bool
    /// The live session with `handle`, without sliding its idle deadline (introspection). `nil` when none.
    func session(handle: SessionHandle) async throws -> StoredSession?
    /// The user's live sessions, newest first.
    func sessions(ofUser userID: String) async throws -> [StoredSession]
    /// Destroys all of the user's sessions except `except`; how many were destroyed.
    func purge(user userID: String, except: SessionHandle?) async throws -> Int
    /// Succeeds when the store answers.
    func ping() async throws
}

extension SessionRepository {
    /// Destroys the session of `token` (by its handle); whether there was one.
    @discardableResult
    public func destroy(_ token: SessionToken) async throws -> Bool {
        try await self.destroy(handle: token.handle)
    }
}
