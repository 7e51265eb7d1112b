import Foundation
import NIOCore
import Testing

@testable import SessionClient

/// Nothing the network delivers may trap: random and mutated responses through the response parser,
/// the session decoder and the JSON scanner, thousands of cases. A trap would kill the test process
/// (and the run), so "no crash" is what these tests assert, next to the parser's limits.
@Suite struct ResponseFuzzTests {
    static let session = #"{"handle":"abcdEFGHijklMNOPqrstUVWXyz0123456789","user_id":"al\u00e9\ud83d\ude00ce","created_at":"2026-11-29T03:46:57.123Z","last_seen_at":"2026-11-29T03:46:57.123Z","idle_expires_at":"2026-11-29T04:16:57.123Z","expires_at":"2026-11-30T03:46:57.123Z","version":3,"metadata":{"ip":"10.0.0.1","user_agent":"x\"y\\z"},"data":{"role":"admin","n":[1,2,{"a":null}]}}"#

    static var seeds: [[UInt8]] {
        let body = Array(session.utf8)
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + String(session.prefix(16)) + "\r\n"
            + String(format: "%x", session.utf8.count - 16) + ";ext=1\r\n" + String(session.dropFirst(16)) + "\r\n0\r\nX-T: 1\r\n\r\n"
        return [
            Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body,
            Array(chunked.utf8),
            Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}".utf8),
        ]
    }

    /// Surrogates and escapes the scanner must survive (each of these trapped or could trap before).
    @Test(arguments: [
        #""\ud800\u0041""#, #""\udbff\uffff""#, #""\ud800\u""#, #""\ud800\""#, #""\ud800""#, #""\udc00""#,
        #""\u+123""#, #""\u-001""#, #""\u 12f""#, #""\ud800\ud800""#, #""\\""#, #""\""#, #""\u00zz""#,
    ])
    func hostileStringEscapesNeverTrap(literal: String) {
        let scanner = JSONObjectScanner(bytes: Array(literal.utf8))
        _ = try? scanner.string(0..<scanner.bytes.count)
        var json = Data(Self.session.utf8)
        json = Data(String(decoding: json, as: UTF8.self).replacingOccurrences(of: #""al\u00e9\ud83d\ude00ce""#, with: literal).utf8)
        _ = try? Session(json: json)
    }

    @Test func aHighSurrogateBeforeANonSurrogateDecodesAsReplacement() throws {
        let scanner = JSONObjectScanner(bytes: Array(#""a\ud800\u0041b""#.utf8))
        #expect(try scanner.string(0..<scanner.bytes.count) == "a\u{FFFD}Ab")
        let pair = JSONObjectScanner(bytes: Array(#""\ud83d\ude00""#.utf8))
        #expect(try pair.string(0..<pair.bytes.count) == "😀")
    }

    /// Random bytes, and every seed mutated (flips, insertions, deletions, duplications, truncation),
    /// each fed to the parser in random pieces; whatever parses goes through the session decoder.
    @Test func randomAndMutatedResponsesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [[UInt8]] = ["\r\n", "\\u", "\\ud800", "\"", "{", "}", "[", "]", ":", ",", "\\", "0\r\n", "ffffffff\r\n", "\u{0}", "\u{FF}"]
            .map { Array($0.utf8) }
        var parsed = 0
        for round in 0..<6000 {
            var bytes: [UInt8]
            if round % 10 == 0 {
                bytes = (0..<Int.random(in: 0..<600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = Self.seeds.randomElement(using: &generator)!
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    guard !bytes.isEmpty else { break }
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<6, using: &generator) {
                    case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                    case 1: bytes.insert(contentsOf: interesting.randomElement(using: &generator)!, at: at)
                    case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...20, using: &generator)))
                    case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 40)], at: at)
                    case 4: bytes = Array(bytes.prefix(at))
                    default: bytes[at] = UInt8.random(in: 0...255, using: &generator)
                    }
                }
            }
            var parser = ResolveResponseParser()
            var offset = 0
            feeding: while offset < bytes.count {
                let step = Int.random(in: 1...max(1, bytes.count), using: &generator)
                var buffer = ByteBuffer(bytes: bytes[offset..<min(bytes.count, offset + step)])
                offset += step
                do {
                    if let response = try parser.feed(&buffer) {
                        parsed += 1
                        _ = try? Session(json: Data(response.body.readableBytesView))
                        break feeding
                    }
                } catch {
                    break feeding
                }
            }
            // The scanner on its own, over the raw bytes and over the body part of a seed.
            let scanner = JSONObjectScanner(bytes: bytes)
            if let members = try? scanner.members() {
                for (_, range) in members { _ = try? scanner.string(range); _ = try? scanner.members(in: range) }
            }
            if let start = bytes.firstIndex(of: UInt8(ascii: "{")) {
                _ = try? Session(json: Data(bytes[start...]))
            }
        }
        #expect(parsed > 100, "the mutations should leave many responses parseable (\(parsed))")
    }

    /// A chunk that would pass the body limit fails at its size line, before any of it is buffered.
    @Test func anOversizedChunkFailsAtItsSizeLine() {
        var parser = ResolveResponseParser()
        var head = ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n900000\r\n")
        #expect(throws: ResolveResponseParser.Malformed.self) { try parser.feed(&head) }
        // And when earlier chunks already hold most of the limit.
        var second = ResolveResponseParser()
        var start = ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffff\r\n")
        #expect(throws: Never.self) { _ = try second.feed(&start) }
        var data = ByteBuffer(repeating: UInt8(ascii: "x"), count: 0x7FFFFF)
        data.writeString("\r\n2\r\n")
        #expect(throws: ResolveResponseParser.Malformed.self) { try second.feed(&data) }
    }

    /// Trailers are bounded like the header section: an endless trailer stream fails.
    @Test func endlessTrailersFail() throws {
        var parser = ResolveResponseParser()
        var head = ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n")
        #expect(try parser.feed(&head) == nil)
        var failed = false
        for _ in 0..<100 {
            var line = ByteBuffer(string: "X-Trailer: " + String(repeating: "t", count: 500) + "\r\n")
            do {
                _ = try parser.feed(&line)
            } catch {
                failed = true
                break
            }
        }
        #expect(failed, "50 KB of trailers were accepted")
    }
}
