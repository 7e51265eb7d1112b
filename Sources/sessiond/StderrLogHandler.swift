import Logging
import SessionCore

#if canImport(Glibc)
import Glibc
#endif

/// A line-per-event log handler on standard error.
///
/// Unlike swift-log's `StreamLogHandler`, it formats metadata when a line is written, not every time
/// a metadata key is set (Hummingbird sets a request id on every request), so a filtered-out level
/// costs nothing on the hot path.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = Timestamp.rfc3339(milliseconds: WallClock.milliseconds())
        line += " \(event.level) \(self.label):"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        line += " \(event.message)\n"
        // One write(2) per line: lines from concurrent tasks never interleave.
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
