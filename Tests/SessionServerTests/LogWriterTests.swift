import Foundation
import Logging
import Testing

@testable import SessionServer

/// The batched access-log writer never drops, reorders within a thread, or interleaves a line.
@Suite struct LogWriterTests {
    @Test func concurrentLinesArriveWholeAndInOrder() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        #expect(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        // A small backlog limit, so the logging threads also take the "write it yourself" path.
        let writer = BatchedLogWriter(descriptor: descriptor, interval: .milliseconds(2), maximumBufferedBytes: 4096)
        let threads = 8
        let perThread = 4000
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                let padding = String(repeating: "x", count: (index * 7) % 300)  // lines of many lengths
                writer.append(Array("thread=\(thread) line=\(index) \(padding) end\n".utf8))
            }
        }
        writer.flush()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == threads * perThread)
        var next = Array(repeating: 0, count: threads)
        var malformed = 0
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields.last == "end", let thread = Int(fields[0].dropFirst("thread=".count)),
                let index = Int(fields[1].dropFirst("line=".count)), thread < threads
            else {
                malformed += 1
                continue
            }
            let padding = fields.count == 4 ? fields[2].count : 0
            if index != next[thread] || padding != (index * 7) % 300 { malformed += 1 }
            next[thread] = index + 1
        }
        #expect(malformed == 0)
        #expect(next == Array(repeating: perThread, count: threads))
    }

    @Test func theHandlerFormatsSortedKeysAndTheMessage() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        defer { close(descriptor); unlink(path) }
        let writer = BatchedLogWriter(descriptor: descriptor)
        var logger = Logger(label: "sessiond") { label in LineLogHandler(label: label, level: .info, writer: writer) }
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.debug("hidden")
        logger.info("request", metadata: ["http.status": "200", "caller": "svc"])
        writer.flush()
        let line = try String(contentsOfFile: path, encoding: .utf8)
        #expect(line.hasSuffix(" info sessiond: caller=svc hb.request.id=abc http.status=200 request\n"))
        #expect(line.split(separator: "\n").count == 1)
    }
}

@Suite struct AccessLogTests {
    @Test func latencyIsPrintedLikeADouble() {
        for microseconds: Int64 in [0, 1, 10, 50, 100, 430, 999, 1000, 1001, 5675, 12_000, 123_456, 9_999_999, 1_234_567_891] {
            var bytes = [UInt8]()
            AccessLog.appendMilliseconds(microseconds: microseconds, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "\(Double(microseconds) / 1000)", "\(microseconds)")
        }
    }

    /// The access line is the line LineLogHandler writes for the same event, byte for byte after the time.
    @Test func theAccessLineMatchesTheHandlersLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString)").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        defer { close(descriptor); unlink(path) }
        let writer = BatchedLogWriter(descriptor: descriptor)
        var logger = Logger(label: "sessiond") { label in LineLogHandler(label: label, level: .info, writer: writer) }
        logger[metadataKey: "hb.request.id"] = "0123abcd"
        for requestLog in [RequestLog(accessLog: AccessLog(writer: writer)), RequestLog()] {
            requestLog.line(method: "GET", route: "/v1/session", status: 200, nanoseconds: 431_999, caller: "svc", newRequestID: false, logger: logger)
            writer.flush()
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].dropFirst(24) == lines[1].dropFirst(24), "\(lines)")
        #expect(lines[0].hasSuffix(" info sessiond: caller=svc hb.request.id=0123abcd http.latency_ms=0.431 http.method=GET http.route=/v1/session http.status=200 request"))
    }

    @Test func fastPathRequestIDsAreUniqueAndShapedLikeHummingbirds() {
        let ids = (0..<1000).map { _ in FastPathRequestID.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}

