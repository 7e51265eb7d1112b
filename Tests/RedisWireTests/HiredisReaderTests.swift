import NIOCore
import Testing

@testable import RedisWire

@Suite struct HiredisReaderTests {
    /// A stream with one of every reply shape.
    static let stream = Array(
        "+OK\r\n-MOVED 3999 127.0.0.1:6381\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+deep\r\n$-1\r\n".utf8
    )
    static let expected: [RESPValue] = [
        .simpleString("OK"),
        .error(RedisServerError(message: "MOVED 3999 127.0.0.1:6381")),
        .integer(-42),
        .bulkString(ByteBuffer(string: "hello")),
        .null,
        .null,
        .array([]),
        .bulkString(ByteBuffer()),
        .array([.integer(1), .array([.bulkString(ByteBuffer(string: "a")), .array([.simpleString("deep")])]), .null]),
    ]

    private func parseAll(_ chunks: [[UInt8]]) throws -> [RESPValue] {
        let reader = HiredisReader()
        var replies: [RESPValue] = []
        for chunk in chunks {
            try reader.feed(ByteBuffer(bytes: chunk))
            while let reply = try reader.next() { replies.append(reply) }
        }
        return replies
    }

    @Test func everyReplyShapeParses() throws {
        #expect(try self.parseAll([Self.stream]) == Self.expected)
    }

    @Test func repliesSplitAtEveryByteBoundaryParseIdentically() throws {
        for split in 0...Self.stream.count {
            let replies = try self.parseAll([Array(Self.stream[..<split]), Array(Self.stream[split...])])
            #expect(replies == Self.expected, "split at byte \(split)")
        }
    }

    @Test func oneByteAtATimeParsesIdentically() throws {
        #expect(try self.parseAll(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test func partialReplyReturnsNilUntilComplete() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: "$10\r\nhello"))
        #expect(try reader.next() == nil)
        try reader.feed(ByteBuffer(string: "world\r\n"))
        #expect(try reader.next() == .bulkString(ByteBuffer(string: "helloworld")))
    }

    @Test func binaryValuesSurviveCRLFAndNUL() throws {
        let value: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0x24]
        var buffer = ByteBuffer(string: "$\(value.count)\r\n")
        buffer.writeBytes(value)
        buffer.writeString("\r\n")
        let reader = HiredisReader()
        try reader.feed(buffer)
        #expect(try reader.next()?.bytes == value)
    }

    @Test func largeBulkStringArrivesWhole() throws {
        let size = 4 * 1024 * 1024
        let payload = [UInt8]((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var buffer = ByteBuffer(string: "$\(size)\r\n")
        buffer.writeBytes(payload)
        buffer.writeString("\r\n")
        let reader = HiredisReader()
        var offset = 0
        var reply: RESPValue? = nil
        // Feed in 64 KiB reads as a socket would.
        while offset < buffer.readableBytes {
            let chunk = buffer.getSlice(at: offset, length: min(65_536, buffer.readableBytes - offset))!
            try reader.feed(chunk)
            offset += chunk.readableBytes
            if let next = try reader.next() { reply = next }
        }
        #expect(reply?.bytes == payload)
    }

    @Test func protocolViolationThrows() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisProtocolError.self) { try reader.next() }
    }

    @Test func oversizedReplyIsRefusedBeforeItIsBuffered() throws {
        let reader = HiredisReader(maximumBufferedBytes: 1024)
        #expect(throws: RedisProtocolError.self) {
            try reader.feed(ByteBuffer(string: "$4096\r\n" + String(repeating: "x", count: 2048)))
        }
    }

    @Test func nestingDeeperThanTheReaderSupportsIsAProtocolError() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: String(repeating: "*1\r\n", count: 12) + ":1\r\n"))
        #expect(throws: RedisProtocolError.self) { try reader.next() }
    }
}
