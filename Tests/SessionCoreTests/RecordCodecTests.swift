import Testing

@testable import SessionCore

@Suite struct RecordCodecTests {
    let handle = SessionToken.generate(for: "bob").handle

    func record(data: String = #"{"k":"v"}"#) -> [UInt8] {
        SessionRecordCodec.header(createdAt: 1_700_000_000_000, lastSeenAt: 1_700_000_001_000, idleTimeout: 1_800_000, expiresAt: 1_700_086_400_000)
            + SessionRecordCodec.tail(
                version: 7,
                userDigest: UserDigest(userID: "bob"),
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
        // Lua reads last_seen at 16..28, idle at 29..41, expires at 42..54, version at 55..64, digest at 65..86 (1-based).
        #expect(String(decoding: bytes[15..<28], as: UTF8.self) == "1700000001000")
        #expect(String(decoding: bytes[28..<41], as: UTF8.self) == "0000001800000")
        #expect(String(decoding: bytes[41..<54], as: UTF8.self) == "1700086400000")
        #expect(String(decoding: bytes[54..<64], as: UTF8.self) == "0000000007")
        #expect(String(decoding: bytes[64..<86], as: UTF8.self) == UserDigest(userID: "bob").value)
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
            // A flip in a digit of the timing header yields another valid number; everything else must be caught.
            if (2..<64).contains(index) && (48...57).contains(corrupt[index]) { continue }
            if (64..<86).contains(index) { continue }  // the user digest is not covered by the checksum
            #expect(throws: CorruptRecordError.self, "flip at \(index)") { try SessionRecordCodec.decode(corrupt, handle: self.handle) }
        }
    }

    @Test func unknownSchemaAndOversizedRecordsAreRefused() {
        var other = self.record()
        other[1] = UInt8(ascii: "9")
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(other, handle: self.handle) }
        let large = self.record(data: "{\"k\":\"" + String(repeating: "x", count: 2000) + "\"}")
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(large, handle: self.handle, maximumSize: 1000) }
        #expect(throws: CorruptRecordError.self) { try SessionRecordCodec.decode(Array("garbage".utf8), handle: self.handle) }
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
