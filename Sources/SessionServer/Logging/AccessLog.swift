import Logging
import SessionCore
import Synchronization

/// The access log: one line per request, formatted straight into bytes and handed to a
/// ``BatchedLogWriter``, with no metadata dictionary, no sorting and no system call on the request's
/// thread. The line is exactly what ``LineLogHandler`` would write for the same event (the keys are
/// fixed and written in sorted order), so an operator's parsers see one format:
///
/// `2026-12-01T04:11:16.196Z info sessiond: caller=svc hb.request.id=7e82…a1f4 http.latency_ms=0.43 http.method=GET http.route=/v1/session http.status=200 request`
public struct AccessLog: Sendable {
    let writer: BatchedLogWriter
    let label: String

    /// Lines labelled `label` (the logger's), written by `writer`.
    public init(writer: BatchedLogWriter, label: String = "sessiond") {
        self.writer = writer
        self.label = label
    }

    func write(method: String, route: String, status: Int, latencyNanoseconds: Int64, caller: String?, requestID: String?) {
        var line = [UInt8]()
        line.reserveCapacity(192)
        Timestamp.appendRFC3339(milliseconds: WallClock.milliseconds(), to: &line)
        line.append(contentsOf: " info ".utf8)
        line.append(contentsOf: self.label.utf8)
        line.append(contentsOf: ": caller=".utf8)
        line.append(contentsOf: (caller ?? "-").utf8)
        if let requestID {
            line.append(contentsOf: " hb.request.id=".utf8)
            line.append(contentsOf: requestID.utf8)
        }
        line.append(contentsOf: " http.latency_ms=".utf8)
        Self.appendMilliseconds(microseconds: latencyNanoseconds / 1000, to: &line)
        line.append(contentsOf: " http.method=".utf8)
        line.append(contentsOf: method.utf8)
        line.append(contentsOf: " http.route=".utf8)
        line.append(contentsOf: route.utf8)
        line.append(contentsOf: " http.status=".utf8)
        Self.appendDecimal(Int64(status), to: &line)
        line.append(contentsOf: " request\n".utf8)
        self.writer.append(line)
    }

    /// Microseconds as milliseconds the way `Double.description` prints `Double(µs) / 1000`:
    /// `0.43`, `5.675`, `12.0`.
    static func appendMilliseconds(microseconds: Int64, to bytes: inout [UInt8]) {
        let value = max(0, microseconds)
        appendDecimal(value / 1000, to: &bytes)
        bytes.append(46)
        var fraction = value % 1000
        if fraction == 0 {
            bytes.append(48)
            return
        }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        bytes.append(contentsOf: repeatElement(48, count: digits - text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: String(value).utf8)
    }
}

/// Request ids for requests the router never sees (the fast path), in the shape of Hummingbird's
/// `hb.request.id`: 32 lowercase hex digits, a random per-process half and a counter.
enum FastPathRequestID {
    private static let high: String = {
        let text = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }()
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    static func next() -> String {
        let low = self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let text = String(low, radix: 16)
        return self.high + String(repeating: "0", count: 16 - text.count) + text
    }
}
