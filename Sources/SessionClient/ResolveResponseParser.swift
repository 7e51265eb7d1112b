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

    /// Where the parser is in the response; every byte is looked at a bounded number of times, and
    /// every limit is checked as the bytes it counts arrive (never after buffering them).
    private enum State {
        /// Looking for the blank line that ends the header section; `scanned` bytes have no CRLFCRLF.
        case head(scanned: Int)
        /// A `Content-Length` body with `remaining` bytes to come.
        case body(Head, remaining: Int)
        /// Looking for the CRLF that ends a chunk-size line.
        case chunkSize(Head, scanned: Int)
        /// Inside a chunk with `remaining` bytes to come.
        case chunkData(Head, remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd(Head)
        /// Trailer fields after the last chunk; `bytes` of them read so far.
        case trailers(Head, bytes: Int, scanned: Int)
    }

    /// Bytes received and not yet consumed.
    private var buffer = ByteBuffer()
    /// The body assembled so far.
    private var body = ByteBuffer()
    private var state = State.head(scanned: 0)

    /// Whether bytes of an unfinished response are held.
    var isEmpty: Bool {
        if case .head(0) = self.state { return self.buffer.readableBytes == 0 }
        return false
    }

    /// Adds `bytes`; the response once it is complete, `nil` while more bytes are needed.
    /// Bytes after a complete response are an error: one request is in flight at a time.
    mutating func feed(_ bytes: inout ByteBuffer) throws(Malformed) -> Response? {
        if self.buffer.readableBytes == 0 {
            swap(&self.buffer, &bytes)
        } else {
            self.buffer.writeBuffer(&bytes)
        }
        while true {
            switch self.state {
            case .head(let scanned):
                guard let length = self.find(crlfcrlf: true, scanned: scanned, limit: Self.maximumHeaderBytes) else {
                    guard self.buffer.readableBytes < Self.maximumHeaderBytes else { throw Malformed(reason: "response header section too large") }
                    self.state = .head(scanned: max(0, self.buffer.readableBytes - 3))
                    return nil
                }
                let head = try Self.parseHead(self.buffer.readableBytesView.prefix(length))
                self.buffer.moveReaderIndex(forwardBy: length)
                if head.interim {
                    self.state = .head(scanned: 0)
                    continue
                }
                self.body = ByteBuffer()
                switch head.framing {
                case .length(let length):
                    self.state = .body(head, remaining: length)
                case .chunked:
                    self.state = .chunkSize(head, scanned: 0)
                }
            case .body(let head, let remaining):
                let left = self.takeBody(remaining)
                guard left == 0 else {
                    self.state = .body(head, remaining: left)
                    return nil
                }
                return try self.finish(head)
            case .chunkSize(let head, let scanned):
                guard let lineLength = self.find(crlfcrlf: false, scanned: scanned, limit: 1024) else {
                    guard self.buffer.readableBytes <= 1024 else { throw Malformed(reason: "chunk size line too long") }
                    self.state = .chunkSize(head, scanned: max(0, self.buffer.readableBytes - 1))
                    return nil
                }
                var size = 0
                var digits = 0
                for byte in self.buffer.readableBytesView.prefix(lineLength - 2) {
                    guard let digit = Self.hexValue(byte) else { break }  // chunk extensions follow
                    size = size * 16 + digit
                    digits += 1
                    guard digits <= 7 else { throw Malformed(reason: "chunk too large") }
                }
                guard digits > 0 else { throw Malformed(reason: "bad chunk size") }
                guard self.body.readableBytes + size <= Self.maximumBodyBytes else { throw Malformed(reason: "response body too large") }
                self.buffer.moveReaderIndex(forwardBy: lineLength)
                self.state = size == 0 ? .trailers(head, bytes: 0, scanned: 0) : .chunkData(head, remaining: size)
            case .chunkData(let head, let remaining):
                let left = self.takeBody(remaining)
                guard left == 0 else {
                    self.state = .chunkData(head, remaining: left)
                    return nil
                }
                self.state = .chunkEnd(head)
            case .chunkEnd(let head):
                guard self.buffer.readableBytes >= 2 else { return nil }
                guard self.buffer.readInteger(as: UInt8.self) == 13, self.buffer.readInteger(as: UInt8.self) == 10 else {
                    throw Malformed(reason: "chunk without CRLF")
                }
                self.state = .chunkSize(head, scanned: 0)
            case .trailers(let head, let bytes, let scanned):
                let room = Self.maximumHeaderBytes - bytes
                guard let lineLength = self.find(crlfcrlf: false, scanned: scanned, limit: room) else {
                    guard self.buffer.readableBytes < room else { throw Malformed(reason: "trailer section too large") }
                    self.state = .trailers(head, bytes: bytes, scanned: max(0, self.buffer.readableBytes - 1))
                    return nil
                }
                self.buffer.moveReaderIndex(forwardBy: lineLength)
                if lineLength == 2 { return try self.finish(head) }
                self.state = .trailers(head, bytes: bytes + lineLength, scanned: 0)
            }
        }
    }

    /// Moves up to `remaining` received bytes into the body; how many are still to come.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let take = min(remaining, self.buffer.readableBytes)
        if take > 0 {
            var slice = self.buffer.readSlice(length: take)!
            self.body.writeBuffer(&slice)
        }
        return remaining - take
    }

    /// The complete response; the parser is ready for the next one.
    private mutating func finish(_ head: Head) throws(Malformed) -> Response {
        guard self.buffer.readableBytes == 0 else { throw Malformed(reason: "bytes after the response") }
        let response = Response(status: head.status, body: self.body, keepAlive: head.keepAlive)
        self.buffer = ByteBuffer()
        self.body = ByteBuffer()
        self.state = .head(scanned: 0)
        return response
    }

    /// The length up to and including the first CRLF (or CRLFCRLF) in the unread bytes, looking at
    /// no more than `limit` bytes and starting after the `scanned` bytes known not to hold it.
    private func find(crlfcrlf: Bool, scanned: Int, limit: Int) -> Int? {
        let view = self.buffer.readableBytesView
        let width = crlfcrlf ? 4 : 2
        var offset = scanned
        let end = min(view.count, limit)
        while offset + width <= end {
            let index = view.startIndex + offset
            if view[index] == 13, view[index + 1] == 10, !crlfcrlf || (view[index + 2] == 13 && view[index + 3] == 10) {
                return offset + width
            }
            offset += 1
        }
        return nil
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
    }

    /// Parses a header section: `view` holds it exactly, up to and including the blank line.
    private static func parseHead(_ view: ByteBufferView.SubSequence) throws(Malformed) -> Head {
        let end = view.endIndex
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
            return Head(status: code, keepAlive: keepAlive, interim: true, framing: .length(0))
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
        return Head(status: code, keepAlive: keepAlive, interim: false, framing: framing)
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
