import Testing

@testable import SessionCore

@Suite struct RecordCodecTests {
    let handle = SessionToken.generate(for: "bob").handle

    func record(data: String = #"{"k":"v"}"#) -> [UInt8] {
        SessionRecordCodec.header(createdAt: 1_700_000_000_000, lastSeenAt: 1_700_000_001_000, idleTimeout: 1_800_000, expiresAt: 1_700_086_400_000)
            + SessionRecordCodec.tail(
                version: 7,
                userIDJSON: Array(#""bob""#.utf8),
                metadataJSON: Array(#"{"ip":"::1"}"#.utf8),
                dataJSON: Array(data.utf8)
            )
    }

    @Test func recordRoundTrips() throws {
        let session = try SessionRecordCodec.decode(self.record(), handle: self.handle)
        #expect(session.createdAt == 1_700_000_000_000)
        #expect(session.lastSeenAt == 1_700_000_001_000)
        #expect(session.idleTimeout == 1_800_000)
        #expect(session.expiresAt == 1_700_086_400_000)
        #expect(session.idleExpiresAt == 1_700_001_801_000)
        #expect(session.version == 7)
        #expect(session.userID == "bob")
        #expect(session.dataJSON == Array(#"{"k":"v"}"#.utf8))
        #expect(session.metadataJSON == Array(#"{"ip":"::1"}"#.utf8))
    }

    @Test func headerOffsetsMatchTheLuaScripts() {
        let bytes = self.record()
        func number(_ range: Range<Int>) -> Int64 { bytes[range].reduce(0) { $0 << 8 | Int64($1) } }
        // Lua: struct.unpack('>I6I6I6I6', v, 2) reads created, last_seen, idle, expires; the touch
        // writes last_seen at 7 (0-based, SETRANGE); the version is string.sub(v, 26, 29); the body opens at 34.
        #expect(bytes[0] == 2)
        #expect(number(1..<7) == 1_700_000_000_000)
        #expect(number(7..<13) == 1_700_000_001_000)
        #expect(number(13..<19) == 1_800_000)
        #expect(number(19..<25) == 1_700_086_400_000)
        #expect(number(25..<29) == 7)
        #expect(Array(bytes[25..<29]) == SessionRecordCodec.version(7))
        #expect(bytes[33] == UInt8(ascii: "\""))
        #expect(SessionRecordCodec.timestamp(1_700_000_001_000) == Array(bytes[7..<13]))
    }

    @Test func theHeaderIsThirtyThreeBytes() {
        // 94 bytes of text in schema 1; the memory target depends on this staying small.
        #expect(self.record().count == 33 + #""bob""#.utf8.count + 1 + #"{"ip":"::1"}"#.utf8.count + 1 + #"{"k":"v"}"#.utf8.count)
    }

    @Test func theUserDigestIsSHA1OfTheStoredLiteral() {
        // The scripts compute string.sub(redis.sha1hex('"bob"'), 1, 24).
        #expect(UserDigest(userID: "bob").value == "493a5108980098b1b6218f94")
        #expect(UserDigest(userID: "bob") == UserDigest(userIDJSON: Array(#""bob""#.utf8)))
    }

    @Test func truncatedRecordsAreRefusedAtEveryLength() {
        let bytes = self.record()
        for length in 0..<bytes.count {
            #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(Array(bytes[..<length]), handle: self.handle) }
        }
    }

    @Test func flippedBytesAreRefused() {
        let bytes = self.record()
        for index in stride(from: 0, to: bytes.count, by: 3) {
            var corrupt = bytes
            corrupt[index] ^= 0x01
            // A flip in the timing header or the version yields other valid numbers; everything else must be caught.
            if (1..<29).contains(index) { continue }
            #expect(throws: CorruptRecordError.self, "flip at \(index)") { try SessionRecordCodec.decode(corrupt, handle: self.handle) }
        }
    }

    @Test func unknownSchemaAndOversizedRecordsAreRefused() {
        var other = self.record()
        other[0] = UInt8(ascii: "S")
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(other, handle: self.handle) }
        let large = self.record(data: "{\"k\":\"" + String(repeating: "x", count: 2000) + "\"}")
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(large, handle: self.handle, maximumSize: 1000) }
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(Array("garbage".utf8), handle: self.handle) }
        // A schema-1 record (94-byte text header) from before this layout reads as absent.
        let schemaOne = Array("S1".utf8) + Array(repeating: UInt8(ascii: "0"), count: 92) + Array(#""bob"\n{}\n{}"#.utf8)
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(schemaOne, handle: self.handle) }
    }
}

@Suite struct CorruptRecordLogTests {
    @Test func eachCorruptRecordIsLoggedOnce() {
        let log = CorruptRecordLog()
        let handle = SessionToken.generate(for: "x").handle
        #expect(log.isFirstSighting(of: handle))
        #expect(!log.isFirstSighting(of: handle))
        #expect(log.isFirstSighting(of: SessionToken.generate(for: "y").handle))
    }
}
