import Foundation
import Synchronization

/// A bounded LRU of resolved sessions keyed by token, each entry usable until the earliest of
/// (time cached + TTL, the session's idle deadline, its absolute deadline). Misses and errors are
/// never cached.
///
/// A resolve takes a ``ticket()`` before it asks sessiond and hands it to ``put(_:_:ticket:)``:
/// when this process destroyed, rotated or updated the token in between (``remove(_:)``), the put
/// is discarded, so an answer that was in flight during a logout never brings the session back.
final class NearCache: Sendable {
    private struct Node {
        var key: String
        var session: Session
        var usableUntil: UInt64  // monotonic ns
        var previous: Int
        var next: Int
    }

    private struct State {
        var index: [String: Int] = [:]
        var nodes: [Node] = []
        var free: [Int] = []
        var head = -1  // most recently used
        var tail = -1  // least recently used
        /// Bumped by every removal; a ticket is the generation when a resolve started.
        var generation: UInt64 = 0
        /// The generation at which each recently removed token was removed.
        var removedAt: [String: UInt64] = [:]
        /// Tickets older than this are refused (set when `removedAt` is cleared to bound its memory).
        var floor: UInt64 = 0

        mutating func unlink(_ slot: Int) {
            let node = self.nodes[slot]
            if node.previous >= 0 { self.nodes[node.previous].next = node.next } else { self.head = node.next }
            if node.next >= 0 { self.nodes[node.next].previous = node.previous } else { self.tail = node.previous }
        }

        mutating func pushFront(_ slot: Int) {
            self.nodes[slot].previous = -1
            self.nodes[slot].next = self.head
            if self.head >= 0 { self.nodes[self.head].previous = slot }
            self.head = slot
            if self.tail < 0 { self.tail = slot }
        }

        mutating func remove(_ slot: Int) {
            self.unlink(slot)
            self.index[self.nodes[slot].key] = nil
            self.free.append(slot)
        }
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let timeToLive: UInt64

    init(capacity: Int, timeToLive: Duration) {
        self.capacity = max(1, capacity)
        let components = timeToLive.components
        self.timeToLive = UInt64(max(0, components.seconds)) * 1_000_000_000 + UInt64(max(0, components.attoseconds) / 1_000_000_000)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// The cached session for `token`, if still usable.
    func get(_ token: String) -> Session? {
        let now = Self.monotonicNanoseconds()
        return self.state.withLock { state in
            guard let slot = state.index[token] else { return nil }
            guard state.nodes[slot].usableUntil > now else {
                state.remove(slot)
                return nil
            }
            if state.head != slot {
                state.unlink(slot)
                state.pushFront(slot)
            }
            return state.nodes[slot].session
        }
    }

    /// The ticket for a resolve about to ask sessiond.
    func ticket() -> UInt64 {
        self.state.withLock { $0.generation }
    }

    /// Caches a session just resolved by a resolve that took `ticket` before asking; refused when the
    /// token was removed since (the answer may predate a logout).
    func put(_ token: String, _ session: Session, ticket: UInt64) {
        let now = Self.monotonicNanoseconds()
        // Never past the session's own deadlines (wall clock → monotonic).
        let remaining = session.usableUntil.timeIntervalSinceNow
        guard remaining > 0 else { return }
        let usableUntil = now + min(self.timeToLive, UInt64(remaining * 1e9))
        self.state.withLock { state in
            guard ticket >= state.floor, (state.removedAt[token] ?? 0) <= ticket else { return }
            if let slot = state.index[token] {
                state.nodes[slot].session = session
                state.nodes[slot].usableUntil = usableUntil
                state.unlink(slot)
                state.pushFront(slot)
                return
            }
            if state.index.count >= self.capacity, state.tail >= 0 {
                state.remove(state.tail)
            }
            let node = Node(key: token, session: session, usableUntil: usableUntil, previous: -1, next: -1)
            let slot: Int
            if let reused = state.free.popLast() {
                state.nodes[reused] = node
                slot = reused
            } else {
                state.nodes.append(node)
                slot = state.nodes.count - 1
            }
            state.index[token] = slot
            state.pushFront(slot)
        }
    }

    /// Forgets `token` (when this process destroys, rotates or updates it), and refuses puts from
    /// resolves that started before now.
    func remove(_ token: String) {
        self.state.withLock { state in
            if let slot = state.index[token] { state.remove(slot) }
            state.generation += 1
            if state.removedAt.count >= 4096 {
                // Bounded memory: forget the tokens, refuse every resolve that started before now.
                state.removedAt.removeAll(keepingCapacity: true)
                state.floor = state.generation
            }
            state.removedAt[token] = state.generation
        }
    }

    var count: Int { self.state.withLock { $0.index.count } }
}
