import Synchronization

/// Sessions in this process's memory: the embedded default (`--store memory`) and the unit tests'
/// twin of ``RedisSessionRepository``. Same record bytes, same rules, one process only.
public final class InMemorySessionRepository: SessionRepository {
    private struct Entry {
        var record: [UInt8]
        var userID: String
    }

    private struct State {
        var records: [SessionHandle: Entry] = [:]
        /// Per user: digests with their creation sequence.
        var index: [String: [(handle: SessionHandle, sequence: UInt64)]] = [:]
        var sequence: UInt64 = 0
    }

    private let state = Mutex(State())
    private let policy: StorePolicy
    private let clock: @Sendable () -> Int64

    /// A store with `policy`; `clock` returns Unix milliseconds (injectable for tests).
    public init(policy: StorePolicy = .init(), clock: @escaping @Sendable () -> Int64 = { WallClock.milliseconds() }) {
        self.policy = policy
        self.clock = clock
    }

    private func decode(_ entry: Entry, handle: SessionHandle) -> StoredSession? {
        try? SessionRecordCodec.decode(entry.record, handle: handle, maximumSize: self.policy.maximumRecordBytes)
    }

    /// The live entry for `handle`, dropping it if it has expired.
    private func live(_ handle: SessionHandle, in state: inout State, now: Int64) -> StoredSession? {
        guard let entry = state.records[handle], let session = self.decode(entry, handle: handle) else {
            return nil
        }
        if session.isExpired(at: now) {
            self.remove(handle, in: &state)
            return nil
        }
        return session
    }

    private func remove(_ handle: SessionHandle, in state: inout State) {
        guard let entry = state.records.removeValue(forKey: handle) else { return }
        state.index[entry.userID]?.removeAll { $0.handle == handle }
        if state.index[entry.userID]?.isEmpty == true { state.index[entry.userID] = nil }
    }

    public func session(handle: SessionHandle) async throws -> StoredSession? {
        let now = self.clock()
        return self.state.withLock { state in self.live(handle, in: &state, now: now) }
    }

    public func create(_ session: NewSession) async throws -> IssuedSession {
        let token = SessionToken.generate(for: session.userID)
        let handle = token.handle
        let now = self.clock()
        let userIDJSON = RedisSessionRepository.quoted(session.userID)
        let record =
            SessionRecordCodec.header(createdAt: now, lastSeenAt: now, idleTimeout: session.idleTimeout, expiresAt: now + session.absoluteTimeout)
            + SessionRecordCodec.tail(
                version: 1,
                userIDJSON: userIDJSON,
                metadataJSON: session.metadataJSON,
                dataJSON: session.dataJSON
            )
        let evicted = self.state.withLock { state -> Int in
            state.records[handle] = Entry(record: record, userID: session.userID)
            state.sequence += 1
            state.index[session.userID, default: []].append((handle, state.sequence))
            var entries = state.index[session.userID] ?? []
            entries.removeAll { entry in
                guard let stored = state.records[entry.handle], let decoded = self.decode(stored, handle: entry.handle) else { return true }
                if decoded.isExpired(at: now) { state.records[entry.handle] = nil; return true }
                return false
            }
            var evicted = 0
            while entries.count > self.policy.maximumSessionsPerUser {
                let oldest = entries.removeFirst()
                state.records[oldest.handle] = nil
                evicted += 1
            }
            state.index[session.userID] = entries
            return evicted
        }
        let stored = try SessionRecordCodec.decode(record, handle: handle)
        return IssuedSession(token: token, session: stored, evicted: evicted)
    }

    public func resolve(_ token: SessionToken) async throws -> StoredSession? {
        let handle = token.handle
        let now = self.clock()
        return self.state.withLock { state -> StoredSession? in
            guard var session = self.live(handle, in: &state, now: now) else { return nil }
            if now - session.lastSeenAt >= self.policy.touchInterval(idleTimeout: session.idleTimeout), var entry = state.records[handle] {
                Self.stamp(&entry.record, now: now)
                state.records[handle] = entry
                session.lastSeenAt = now
            }
            return session
        }
    }

    public func update(
        _ token: SessionToken,
        expectedVersion: Int?,
        transform: @Sendable (StoredSession) throws -> [UInt8]
    ) async throws -> StoredSession? {
        let handle = token.handle
        let now = self.clock()
        return try self.state.withLock { state -> StoredSession? in
            guard let session = self.live(handle, in: &state, now: now), var entry = state.records[handle] else { return nil }
            if let expectedVersion, expectedVersion != session.version { throw SessionStoreError.versionMismatch }
            let dataJSON = try transform(session)
            let tail = SessionRecordCodec.tail(
                version: session.version + 1,
                userIDJSON: session.userIDJSON,
                metadataJSON: session.metadataJSON,
                dataJSON: dataJSON
            )
            entry.record = Array(entry.record[..<SessionRecordCodec.tailOffset]) + tail
            state.records[handle] = entry
            return self.decode(entry, handle: handle)
        }
    }

    public func rotate(_ token: SessionToken) async throws -> IssuedSession? {
        let oldHandle = token.handle
        let now = self.clock()
        let newToken = SessionToken.generate(replacing: token)
        let newHandle = newToken.handle
        let session = self.state.withLock { state -> StoredSession? in
            guard self.live(oldHandle, in: &state, now: now) != nil, var entry = state.records.removeValue(forKey: oldHandle) else {
                return nil
            }
            Self.stamp(&entry.record, now: now)
            state.records[newHandle] = entry
            if let position = state.index[entry.userID]?.firstIndex(where: { $0.handle == oldHandle }) {
                state.index[entry.userID]?[position].handle = newHandle
            }
            return self.decode(entry, handle: newHandle)
        }
        guard let session else { return nil }
        return IssuedSession(token: newToken, session: session, evicted: 0)
    }

    @discardableResult
    public func destroy(handle: SessionHandle) async throws -> Bool {
        let now = self.clock()
        return self.state.withLock { state in
            guard self.live(handle, in: &state, now: now) != nil else { return false }
            self.remove(handle, in: &state)
            return true
        }
    }

    public func sessions(ofUser userID: String) async throws -> [StoredSession] {
        let now = self.clock()
        return self.state.withLock { state in
            let handles = (state.index[userID] ?? []).reversed().map(\.handle)
            return handles.compactMap { self.live($0, in: &state, now: now) }
        }
    }

    public func purge(user userID: String, except: SessionHandle?) async throws -> Int {
        let now = self.clock()
        return self.state.withLock { state in
            var destroyed = 0
            for entry in state.index[userID] ?? [] where entry.handle != except {
                if self.live(entry.handle, in: &state, now: now) != nil { destroyed += 1 }
                self.remove(entry.handle, in: &state)
            }
            return destroyed
        }
    }

    public func ping() async throws {}

    /// Rewrites `last_seen_at` in place, as the touch script does with `SETRANGE`.
    private static func stamp(_ record: inout [UInt8], now: Int64) {
        let offset = SessionRecordCodec.lastSeenOffset
        record.replaceSubrange(offset..<(offset + 6), with: SessionRecordCodec.timestamp(now))
    }

    /// Overwrites the stored bytes of a session (tests use this to simulate corruption).
    public func overwriteRecord(_ handle: SessionHandle, with bytes: [UInt8]) {
        self.state.withLock { state in
            if var entry = state.records[handle] {
                entry.record = bytes
                state.records[handle] = entry
            }
        }
    }
}
