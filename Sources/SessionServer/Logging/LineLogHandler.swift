import Logging
import SessionCore

/// A line-per-event log handler: `<RFC 3339 time> <level> <label>: key=value … <message>`, keys sorted.
///
/// Unlike swift-log's `StreamLogHandler`, it formats metadata when a line is written, not every time
/// a metadata key is set (Hummingbird sets a request id on every request), so a filtered-out level
/// costs nothing on the hot path. Lines go to a ``BatchedLogWriter``: the logging thread formats and
/// appends, a writer thread does the system calls. `error` and `critical` lines are flushed at once.
public struct LineLogHandler: LogHandler {
    let label: String
    let writer: BatchedLogWriter
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler for `label` writing lines at `level` and above to `writer`.
    public init(label: String, level: Logger.Level, writer: BatchedLogWriter) {
        self.label = label
        self.logLevel = level
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = [UInt8]()
        line.reserveCapacity(160)
        Timestamp.appendRFC3339(milliseconds: WallClock.milliseconds(), to: &line)
        line.append(32)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(32)
        line.append(contentsOf: self.label.utf8)
        line.append(58)
        for key in merged.keys.sorted() {
            line.append(32)
            line.append(contentsOf: key.utf8)
            line.append(61)
            line.append(contentsOf: merged[key]!.description.utf8)
        }
        line.append(32)
        line.append(contentsOf: event.message.description.utf8)
        line.append(10)
        self.writer.append(line)
        if event.level >= .error { self.writer.flush() }
    }
}
