import Logging
import Metrics
import Synchronization
import NIOCore
import RedisWire

/// Sessions in Redis: one Lua script per operation, keys laid out by ``KeyLayout``.
public struct RedisSessionRepository: SessionRepository {
    private let redis: RedisClient
    private let layout: KeyLayout
    private let policy: StorePolicy
    private let logger: Logger

    /// A repository over `redis`.
    public init(redis: RedisClient, layout: KeyLayout, policy: StorePolicy, logger: Logger) {
        self.redis = redis
        self.layout = layout
        self.policy = policy
        self.logger = logger
    }

    /// The oldest Redis the scripts run on: they use `PEXPIRE … GT` (7.0). Older servers would run a
    /// create halfway and fail (Lua does not roll back), so sessiond refuses them at connect.
    public static let minimumServerVersion = RedisServerVersion(7, 0)

    /// Loads every script into the server's cache (optional: `EVALSHA` falls back on `NOSCRIPT`).
    public func loadScripts() async throws {
        try await self.run {
            for script in SessionScripts.all { try await self.redis.loadScript(script) }
        }
    }

    public func create(_ session: NewSession) async throws -> IssuedSession {
        let token = SessionToken.generate(for: session.userID)
        let handle = token.handle
        let userIDJSON = Self.quoted(session.userID)
        let tail = SessionRecordCodec.tail(
            version: 1,
            userIDJSON: userIDJSON,
            metadataJSON: session.metadataJSON,
            dataJSON: session.dataJSON
        )
        let reply = try await self.run {
            try await self.redis.evaluate(
                SessionScripts.create,
                keys: [RedisArgument(self.layout.sessionKey(handle)), RedisArgument(self.layout.userIndexKey(userID: session.userID))],
                arguments: [
                    RedisArgument(bytes: tail),
                    RedisArgument(session.idleTimeout),
                    RedisArgument(session.absoluteTimeout),
                    RedisArgument(self.policy.maximumSessionsPerUser),
                    RedisArgument(String(handle.digest)),
                    RedisArgument(self.layout.sessionKeyPrefix(handle.slotTag)),
                ],
                resendThroughWritePauses: true
            )
        }
        guard let parts = reply.array, parts.count == 3, let now = parts[0].int, let evicted = parts[1].int else {
            throw SessionStoreError.unavailable("unexpected reply from the create script")
        }
        if parts[2].int == 1 {
            self.logger.warning(
                "corrupt user index (another Redis type) replaced",
                metadata: ["user.digest": "\(UserDigest(userID: session.userID).value)"]
            )
        }
        let stored = StoredSession(
            handle: handle,
            userIDJSON: userIDJSON,
            createdAt: Int64(now),
            lastSeenAt: Int64(now),
            idleTimeout: session.idleTimeout,
            expiresAt: Int64(now) + session.absoluteTimeout,
            version: 1,
            metadataJSON: session.metadataJSON,
            dataJSON: session.dataJSON
        )
        return IssuedSession(token: token, session: stored, evicted: evicted)
    }

    /// One `GET` in the common case. Redis expires the key at the idle or absolute deadline (whichever
    /// is first), so a present record is live; only when the last touch is older than the touch
    /// interval does a second call, the touch script, slide the deadline (re-checking everything
    /// atomically with the Redis clock, so a racing destroy is never undone).
    public func resolve(_ token: SessionToken) async throws -> StoredSession? {
        let handle = token.handle
        let key = RedisArgument(self.layout.sessionKey(handle))
        let reply = try await self.run { try await self.getRecord(key) }
        guard let session = self.decode(reply, handle: handle) else { return nil }
        let now = WallClock.milliseconds()
        if session.isExpired(at: now) { return nil }
        guard now - session.lastSeenAt >= self.policy.touchInterval(idleTimeout: session.idleTimeout) else { return session }
        let touched = try await self.run { () async throws -> RESPValue? in
            do {
                return try await self.redis.evaluate(SessionScripts.touch, keys: [key], arguments: [RedisArgument(self.policy.touchInterval)])
            } catch let error as RedisServerError where error.kind == .outOfMemory {
                // Redis is full (maxmemory + noeviction): the session is live, only the slide failed.
                // Answer from the record just read; the next resolve tries the touch again.
                return nil
            } catch let error as RedisClientError where error.code == .commandTimeout {
                // The record was just read, so Redis answers; a touch that times out is a write held
                // back (a primary pausing its writers for a failover). Answer from the record, as
                // when no touch is due; the next resolve slides the deadline.
                return nil
            }
        }
        guard let touched else { return session }
        return self.decode(touched, handle: handle)
    }

    /// One `GET`; nothing is written (no slide), so asking never extends a session.
    public func session(handle: SessionHandle) async throws -> StoredSession? {
        let key = RedisArgument(self.layout.sessionKey(handle))
        let reply = try await self.run { try await self.getRecord(key) }
        guard let session = self.decode(reply, handle: handle), !session.isExpired(at: WallClock.milliseconds()) else { return nil }
        return session
    }

    public func update(
        _ token: SessionToken,
        expectedVersion: Int?,
        transform: @Sendable (StoredSession) throws -> [UInt8]
    ) async throws -> StoredSession? {
        let handle = token.handle
        let key = RedisArgument(self.layout.sessionKey(handle))
        for _ in 0..<8 {
            let current = try await self.run { try await self.getRecord(key) }
            guard let session = self.decode(current, handle: handle) else { return nil }
            if let expectedVersion, expectedVersion != session.version { throw SessionStoreError.versionMismatch }
            let dataJSON = try transform(session)
            let expected = SessionRecordCodec.version(session.version)
            let tail = SessionRecordCodec.tail(
                version: session.version + 1,
                userIDJSON: session.userIDJSON,
                metadataJSON: session.metadataJSON,
                dataJSON: dataJSON
            )
            let reply = try await self.run(resend: false) {
                try await self.redis.evaluate(
                    SessionScripts.update,
                    keys: [key],
                    arguments: [RedisArgument(bytes: expected), RedisArgument(bytes: tail)]
                )
            }
            if case .array(let parts) = reply, parts.first?.string == "conflict" {
                // Someone else updated in between.
                if expectedVersion != nil { throw SessionStoreError.versionMismatch }
                continue
            }
            return self.decode(reply, handle: handle)
        }
        throw SessionStoreError.conflict
    }

    public func rotate(_ token: SessionToken) async throws -> IssuedSession? {
        let oldHandle = token.handle
        let newToken = SessionToken.generate(replacing: token)
        let newHandle = newToken.handle
        let reply = try await self.run {
            try await self.revoke(
                SessionScripts.rotate,
                keys: [RedisArgument(self.layout.sessionKey(oldHandle)), RedisArgument(self.layout.sessionKey(newHandle))],
                arguments: [
                    RedisArgument(self.layout.userIndexKeyPrefix(oldHandle.slotTag)),
                    RedisArgument(String(oldHandle.digest)),
                    RedisArgument(String(newHandle.digest)),
                ]
            )
        }
        guard let session = self.decode(reply, handle: newHandle) else { return nil }
        return IssuedSession(token: newToken, session: session, evicted: 0)
    }

    @discardableResult
    public func destroy(handle: SessionHandle) async throws -> Bool {
        let reply = try await self.run {
            try await self.revoke(
                SessionScripts.destroy,
                keys: [RedisArgument(self.layout.sessionKey(handle))],
                arguments: [RedisArgument(self.layout.userIndexKeyPrefix(handle.slotTag)), RedisArgument(String(handle.digest))]
            )
        }
        if case .simpleString(Self.corruptMarker) = reply { _ = self.decode(reply, handle: handle) }
        return reply.int == 1
    }

    public func sessions(ofUser userID: String) async throws -> [StoredSession] {
        let tag = SlotTag(userID: userID)
        let reply = try await self.run {
            try await self.redis.evaluate(
                SessionScripts.list,
                keys: [RedisArgument(self.layout.userIndexKey(userID: userID))],
                arguments: [RedisArgument(self.layout.sessionKeyPrefix(tag))],
                resendThroughWritePauses: true
            )
        }
        if case .simpleString(Self.corruptMarker) = reply {
            self.logger.warning("corrupt user index (another Redis type) treated as empty", metadata: ["user.digest": "\(UserDigest(userID: userID).value)"])
        }
        guard let parts = reply.array else { return [] }
        var sessions: [StoredSession] = []
        var index = 0
        while index + 1 < parts.count {
            if let digest = parts[index].string, let handle = SessionHandle(parsing: tag.value + digest),
                let session = self.decode(parts[index + 1], handle: handle)
            {
                sessions.append(session)
            }
            index += 2
        }
        return sessions
    }

    public func purge(user userID: String, except: SessionHandle?) async throws -> Int {
        let tag = SlotTag(userID: userID)
        let keep = except.flatMap { $0.slotTag == tag ? String($0.digest) : nil } ?? ""
        let reply = try await self.run {
            try await self.revoke(
                SessionScripts.purge,
                keys: [RedisArgument(self.layout.userIndexKey(userID: userID))],
                arguments: [RedisArgument(self.layout.sessionKeyPrefix(tag)), RedisArgument(keep)]
            )
        }
        return reply.int ?? 0
    }

    public func ping() async throws {
        try await self.run { try await self.redis.ping() }
    }

    /// Runs a script that revokes sessions (destroy, purge, rotate) and waits for replicas as the
    /// revocation policy says; a shortfall is a 503 under `strict`, a metric and a log line otherwise.
    private func revoke(_ script: RedisScript, keys: [RedisArgument], arguments: [RedisArgument]) async throws -> RESPValue {
        let policy = self.policy.revocation
        if policy.replicas == 0 { return try await self.redis.evaluate(script, keys: keys, arguments: arguments, resendThroughWritePauses: true) }
        let result = try await self.redis.evaluateReplicated(
            script, keys: keys, arguments: arguments, replicas: policy.replicas, timeout: .milliseconds(policy.timeout)
        )
        if !result.isReplicated {
            RevocationShortfall.shared.record(acknowledged: result.acknowledged, required: result.required, logger: self.logger)
            if policy.mode == .strict {
                throw SessionStoreError.unavailable("logout acknowledged by \(result.acknowledged) of \(result.required) replicas")
            }
        }
        return result.reply
    }

    /// `GET` of a record key; a key of another type answers ``corruptMarker`` like the scripts do.
    private func getRecord(_ key: RedisArgument) async throws -> RESPValue {
        do {
            return try await self.redis.read(RedisCommand("GET", key))
        } catch let error as RedisServerError where error.kind == .wrongType {
            return .simpleString(Self.corruptMarker)
        }
    }

    /// What the scripts answer for a record key that holds another Redis type.
    static let corruptMarker = "CORRUPT"

    /// Decodes a script's reply; a malformed record, or a key of another type (`+CORRUPT`), reads as
    /// absent and is logged once (by handle, never token).
    private func decode(_ reply: RESPValue, handle: SessionHandle) -> StoredSession? {
        let buffer: ByteBuffer
        switch reply {
        case .bulkString(let bytes):
            buffer = bytes
        case .simpleString(Self.corruptMarker):
            self.logCorrupt(handle, reason: "the key holds another Redis type")
            return nil
        default:
            return nil
        }
        do {
            return try buffer.withUnsafeReadableBytes { bytes throws(CorruptRecordError) in
                try SessionRecordCodec.decode(
                    UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count),
                    handle: handle,
                    maximumSize: self.policy.maximumRecordBytes
                )
            }
        } catch {
            self.logCorrupt(handle, reason: error.reason)
            return nil
        }
    }

    private func logCorrupt(_ handle: SessionHandle, reason: String) {
        if CorruptRecordLog.shared.isFirstSighting(of: handle) {
            self.logger.warning(
                "corrupt session record treated as absent",
                metadata: ["session.handle": "\(handle.value)", "record.error": "\(reason)"]
            )
        }
    }

    /// Maps Redis client failures to ``SessionStoreError/unavailable(_:)``; server errors too,
    /// except that they keep their message for logs (it never contains keys or values).
    ///
    /// A command whose connection closed before its reply (a primary that failed over or was demoted
    /// closes its clients) is sent once more: every script is safe to resend (creates and rotates
    /// recognise their own earlier run; destroy and purge are idempotent), except the update's
    /// compare-and-set, whose caller passes `resend: false`.
    private func run<T: Sendable>(resend: Bool = true, _ body: () async throws -> T) async throws -> T {
        try await Self.run(resend: resend, body)
    }

    /// ``run(resend:_:)`` for every Redis-backed store of SessionCore.
    static func run<T: Sendable>(resend: Bool = true, _ body: () async throws -> T) async throws -> T {
        do {
            var attempt = 0
            while true {
                do {
                    return try await body()
                } catch let error as RedisClientError where resend && error.code == .connectionClosed && attempt < 3 {
                    attempt += 1
                    try await Task.sleep(nanoseconds: UInt64(attempt) * 20_000_000)
                }
            }
        } catch let error as SessionStoreError {
            throw error
        } catch let error as RedisClientError {
            throw SessionStoreError.unavailable(error.description)
        } catch let error as RedisServerError {
            throw SessionStoreError.unavailable("redis error: \(error.kind)")
        } catch let error as RedisProtocolError {
            throw SessionStoreError.unavailable("redis protocol: \(error.message)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Anything else from below is still "the store cannot answer": 503, never 500 or 404.
            throw SessionStoreError.unavailable("redis: \(type(of: error))")
        }
    }

    static func quoted(_ text: String) -> [UInt8] {
        var bytes = [UInt8]()
        JSONValue.appendQuoted(text, to: &bytes)
        return bytes
    }
}

/// Remembers which corrupt records were already logged, so a client retrying a broken session does
/// not flood the log: one line per record (bounded memory; forgets everything past 10,000 handles).
final class CorruptRecordLog: Sendable {
    static let shared = CorruptRecordLog()
    private let seen = Mutex(Set<SessionHandle>())

    func isFirstSighting(of handle: SessionHandle) -> Bool {
        self.seen.withLock { seen in
            if seen.count >= 10_000 { seen.removeAll() }
            return seen.insert(handle).inserted
        }
    }
}

/// Counts logouts that fewer replicas acknowledged than required, and says so in the log at most
/// once a second (a failover can produce many at once).
final class RevocationShortfall: Sendable {
    static let shared = RevocationShortfall()
    private let counter = Counter(label: "sessiond_revocations_unreplicated_total")
    private let lastLog = Mutex<Int64>(0)

    func record(acknowledged: Int, required: Int, logger: Logger) {
        self.counter.increment()
        let now = WallClock.milliseconds()
        let due = self.lastLog.withLock { last -> Bool in
            guard now - last >= 1000 else { return false }
            last = now
            return true
        }
        if due {
            logger.warning(
                "logout not replicated in time",
                metadata: ["redis.replicas_acknowledged": "\(acknowledged)", "redis.replicas_required": "\(required)"]
            )
        }
    }
}
