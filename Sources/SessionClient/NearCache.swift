import Foundation
import Synchronization

/// A bounded LRU of resolved sessions keyed by token, each entry usable until the earliest of
/// (time cached + TTL, the session's idle deadline, its absolute deadline). Misses and errors are
/// never cached.
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

    /// Caches a session just resolved.
    func put(_ token: String, _ session: Session) {
        let now = Self.monotonicNanoseconds()
        // Never past the session's own deadlines (wall clock → monotonic).
        let remaining = session.usableUntil.timeIntervalSinceNow
        guard remaining > 0 else { return }
        let usableUntil = now + min(self.timeToLive, UInt64(remaining * 1e9))
        self.state.withLock { state in
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

    /// Forgets `token` (after this process destroys or rotates it).
    func remove(_ token: String) {
        self.state.withLock { state in
            if let slot = state.index[token] { state.remove(slot) }
        }
    }

    var count: Int { self.state.withLock { $0.index.count } }
}
