import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to a file descriptor in batches, off the threads that log.
///
/// A request's thread only appends its finished line to a buffer under a lock (no system call);
/// a writer thread wakes every few milliseconds and writes whatever has gathered with one `write(2)`.
/// Lines are appended whole and written in the order they were appended, so they never interleave
/// and none is dropped: when the buffer passes ``maximumBufferedBytes`` (the descriptor cannot keep
/// up), the logging thread writes the backlog itself before adding its line, which slows logging
/// down instead of losing lines. ``flush()`` writes everything now (at exit, and for errors).
public final class BatchedLogWriter: Sendable {
    /// Lines gathered and not yet written.
    private let pending = Mutex([UInt8]())
    /// Held while a batch is taken and written, so batches reach the descriptor in order.
    private let writing = Mutex(())
    private let descriptor: Int32
    private let interval: Duration
    /// Above this many buffered bytes the logging thread writes the backlog itself.
    public let maximumBufferedBytes: Int

    /// A writer to `descriptor` (standard error by default) that writes every `interval`.
    public init(descriptor: Int32 = 2, interval: Duration = .milliseconds(5), maximumBufferedBytes: Int = 1 << 20) {
        self.descriptor = descriptor
        self.interval = interval
        self.maximumBufferedBytes = maximumBufferedBytes
        let thread = Thread { [weak self] in
            while let writer = self {
                let interval = writer.interval
                writer.flush()
                Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
            }
        }
        thread.name = "sessiond-log-writer"
        thread.start()
    }

    /// Appends one complete line (it must end in a newline).
    public func append(_ line: [UInt8]) {
        let backlog = self.pending.withLock { pending in
            pending.append(contentsOf: line)
            return pending.count
        }
        if backlog > self.maximumBufferedBytes { self.flush() }
    }

    /// Writes every line appended so far.
    public func flush() {
        self.writing.withLock { _ in
            let batch = self.pending.withLock { pending -> [UInt8] in
                if pending.isEmpty { return [] }
                var taken = [UInt8]()
                taken.reserveCapacity(pending.count)
                swap(&taken, &pending)
                return taken
            }
            guard !batch.isEmpty else { return }
            batch.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(self.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0, errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }
}
