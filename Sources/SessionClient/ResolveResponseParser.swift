import NIOCore

/// An incremental parser for the HTTP/1.x responses to the resolve transport's requests.
///
/// Deliberately narrow: it reads a status line, header fields, and a body framed by
/// `Content-Length` or `Transfer-Encoding: chunked`, skips interim 1xx responses, and rejects
/// everything else (a body delimited by closing the connection, both framings at once, conflicting
/// lengths, obsolete line folding, oversized headers). A rejected response fails the request as
/// "unavailable" and the connection is closed: the client fails closed, never guesses.
/// It exists because NIO's general codec was the largest user-space cost of a client resolve.
struct ResolveResponseParser {
    struct Response: Equatable {
        let status: Int
        let body: ByteBuffer
        let keepAlive: Bool
    }

    struct Malformed: Error, Equatable {
        let reason: String
    }

    static let maximumHeaderBytes = 16 * 1024
    static let maximumBodyBytes = 8 << 20

    private var buffer = ByteBuffer()

    /// Whether bytes of an unfinished response are held.
    var isEmpty: Bool { self.buffer.readableBytes == 0 }

    /// Adds `bytes`; the response once it is complete, `nil` while more bytes are needed.
    /// Bytes after a complete response are an error: one request is in flight at a time.
    mutating func feed(_ bytes: inout ByteBuffer) throws(Malformed) -> Response? {
        if self.buffer.readableBytes == 0 {
            swap(&self.buffer, &bytes)
        } else {
            self.buffer.writeBuffer(&bytes)
        }
        while true {
            guard let head = try self.parseHead() else { return nil }
            if head.interim {
                self.buffer.moveReaderIndex(forwardBy: head.length)
                continue
            }
            let bodyStart = self.buffer.readerIndex + head.length
            let parsed: (body: ByteBuffer, end: Int)?
            switch head.framing {
            case .length(let length):
                let end = bodyStart + length
                parsed = self.buffer.writerIndex >= end ? (self.buffer.getSlice(at: bodyStart, length: length)!, end) : nil
            case .chunked:
                parsed = try self.parseChunked(from: bodyStart)
            }
            guard let parsed else { return nil }
            guard parsed.end == self.buffer.writerIndex else { throw Malformed(reason: "bytes after the response") }
            self.buffer = ByteBuffer()
            return Response(status: head.status, body: parsed.body, keepAlive: head.keepAlive)
        }
    }

    private enum Framing {
        case length(Int)
        case chunked
    }

    private struct Head {
        let status: Int
        let keepAlive: Bool
        let interim: Bool
        let framing: Framing
        /// Bytes from the status line to the end of the blank line.
        let length: Int
    }

    private func parseHead() throws(Malformed) -> Head? {
        let view = self.buffer.readableBytesView
        // Find the blank line that ends the header section.
        var end: Int? = nil
        var index = view.startIndex
        let limit = min(view.endIndex, view.startIndex + Self.maximumHeaderBytes)
        while index + 3 < limit {
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 {
                end = index + 4
                break
            }
            index += 1
        }
        guard let end else {
            if view.count >= Self.maximumHeaderBytes { throw Malformed(reason: "response header section too large") }
            return nil
        }
        // Every line, the status line included, ends in CRLF; splitting at LF leaves one empty piece after the last.
        let lines = view[view.startIndex..<(end - 2)].split(separator: 10, omittingEmptySubsequences: false).dropLast()
        guard let statusLine = lines.first else { throw Malformed(reason: "no status line") }
        // "HTTP/1.x SP 3DIGIT SP reason CR"
        let status = Array(statusLine.prefix(12))
        guard status.count == 12, status[0..<7].elementsEqual("HTTP/1.".utf8), status[7] == 48 || status[7] == 49, status[8] == 32,
            status[9...11].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { throw Malformed(reason: "bad status line") }
        let code = Int(status[9] - 48) * 100 + Int(status[10] - 48) * 10 + Int(status[11] - 48)
        var keepAlive = status[7] == 49  // HTTP/1.1 keeps the connection unless told otherwise
        var length: Int? = nil
        var chunked = false
        for line in lines.dropFirst() {
            var field = line
            guard field.last == 13 else { throw Malformed(reason: "header line without CRLF") }
            field = field.dropLast()
            guard let first = field.first, first != 32, first != 9 else { throw Malformed(reason: "folded or empty header line") }
            guard let colon = field.firstIndex(of: 58) else { throw Malformed(reason: "header line without a colon") }
            let name = field[field.startIndex..<colon]
            var value = field[(colon + 1)...]
            while let byte = value.first, byte == 32 || byte == 9 { value = value.dropFirst() }
            while let byte = value.last, byte == 32 || byte == 9 { value = value.dropLast() }
            if Self.equalsLowercased(name, "content-length") {
                guard !value.isEmpty, value.count <= 10, value.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    throw Malformed(reason: "bad Content-Length")
                }
                let parsed = value.reduce(0) { $0 * 10 + Int($1 - 48) }
                if let length, length != parsed { throw Malformed(reason: "conflicting Content-Length") }
                length = parsed
            } else if Self.equalsLowercased(name, "transfer-encoding") {
                guard Self.equalsLowercased(value, "chunked") else { throw Malformed(reason: "unsupported Transfer-Encoding") }
                chunked = true
            } else if Self.equalsLowercased(name, "connection") {
                for token in value.split(separator: 44) {
                    var option = token[...]
                    while option.first == 32 { option = option.dropFirst() }
                    while option.last == 32 { option = option.dropLast() }
                    if Self.equalsLowercased(option, "close") { keepAlive = false }
                    if Self.equalsLowercased(option, "keep-alive") { keepAlive = true }
                }
            }
        }
        let interim = (100...199).contains(code)
        if interim {
            guard code != 101 else { throw Malformed(reason: "unexpected protocol switch") }
            return Head(status: code, keepAlive: keepAlive, interim: true, framing: .length(0), length: end - view.startIndex)
        }
        let framing: Framing
        switch (length, chunked) {
        case (.some, true): throw Malformed(reason: "both Content-Length and Transfer-Encoding")
        case (_, true): framing = .chunked
        case (let length?, false):
            guard length <= Self.maximumBodyBytes else { throw Malformed(reason: "response body too large") }
            framing = .length(length)
        case (nil, false):
            guard code == 204 || code == 304 else { throw Malformed(reason: "response without a length") }
            framing = .length(0)
        }
        return Head(status: code, keepAlive: keepAlive, interim: false, framing: framing, length: end - view.startIndex)
    }

    /// The de-chunked body and the index after the final CRLF, or nil while incomplete.
    private func parseChunked(from start: Int) throws(Malformed) -> (body: ByteBuffer, end: Int)? {
        var body = ByteBuffer()
        var index = start
        let end = self.buffer.writerIndex
        while true {
            // chunk-size [; extensions] CRLF
            guard let lineEnd = self.lineEnd(from: index, limit: end) else {
                if end - index > 1024 { throw Malformed(reason: "chunk size line too long") }
                return nil
            }
            var size = 0
            var digits = 0
            var cursor = index
            while cursor < lineEnd, let digit = Self.hexValue(self.buffer.getInteger(at: cursor, as: UInt8.self)!) {
                size = size * 16 + digit
                digits += 1
                cursor += 1
                guard digits <= 7 else { throw Malformed(reason: "chunk too large") }
            }
            guard digits > 0 else { throw Malformed(reason: "bad chunk size") }
            index = lineEnd + 2
            if size == 0 {
                // Trailer fields, then the final CRLF.
                while true {
                    guard let trailerEnd = self.lineEnd(from: index, limit: end) else { return nil }
                    let empty = trailerEnd == index
                    index = trailerEnd + 2
                    if empty { return (body, index) }
                }
            }
            guard end >= index + size + 2 else { return nil }
            guard body.readableBytes + size <= Self.maximumBodyBytes else { throw Malformed(reason: "response body too large") }
            var chunk = self.buffer.getSlice(at: index, length: size)!
            body.writeBuffer(&chunk)
            guard self.buffer.getInteger(at: index + size, as: UInt8.self) == 13, self.buffer.getInteger(at: index + size + 1, as: UInt8.self) == 10 else {
                throw Malformed(reason: "chunk without CRLF")
            }
            index += size + 2
        }
    }

    /// The index of the CR of the next CRLF at or after `start`, or nil.
    private func lineEnd(from start: Int, limit: Int) -> Int? {
        var index = start
        while index + 1 < limit {
            if self.buffer.getInteger(at: index, as: UInt8.self) == 13, self.buffer.getInteger(at: index + 1, as: UInt8.self) == 10 {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }

    private static func equalsLowercased(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { ($0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0) == $1 }
        }
    }
}
