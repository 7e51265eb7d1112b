/// Why a stored record was refused. Such a record reads as absent (fail closed).
public struct CorruptRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong (never contains the record's content).
    public let reason: String
    public var description: String { self.reason }
}

/// The byte layout of a session record, shared by the Redis Lua scripts and the in-memory store.
///
/// ```
/// offset  size  field                                             (integers big-endian, unsigned)
///  0       1    schema 0x02                                      
///  1       6    created_at      (Unix ms)                         ┐ written by Lua (server clock)
///  7       6    last_seen_at                                      │ with struct.pack; a touch
/// 13       6    idle_timeout    (ms)                              │ rewrites last_seen_at alone
/// 19       6    expires_at      (absolute deadline)               ┘ (SETRANGE)
/// 25       4    version                                          ┐ the "tail": written by Swift,
/// 29       4    CRC-32 of the body                                │ replaced whole by updates
/// 33       …    body: user_id JSON \n metadata JSON \n data JSON ┘
/// ```
/// Compact JSON never contains a raw newline, so the body splits unambiguously. The user's index key
/// is derived from the user_id JSON in the body (``UserDigest``), so the record does not carry it.
/// Schema 1 (`"S1"`, a 94-byte text header) reads as absent.
public enum SessionRecordCodec {
    /// The schema byte this build reads and writes.
    public static let schema: UInt8 = 0x02
    /// Byte offset of `last_seen_at` (1-based position 8 in Lua).
    public static let lastSeenOffset = 7
    /// Byte offset of the tail (1-based position 26 in Lua).
    public static let tailOffset = 25
    static let checksumOffset = 29
    /// Byte offset of the body (1-based position 34 in Lua).
    public static let bodyOffset = 33

    /// The fixed-width timing header (used by the in-memory store; Lua builds the same bytes in Redis).
    public static func header(createdAt: Int64, lastSeenAt: Int64, idleTimeout: Int64, expiresAt: Int64) -> [UInt8] {
        var bytes: [UInt8] = [schema]
        bytes.reserveCapacity(tailOffset)
        for value in [createdAt, lastSeenAt, idleTimeout, expiresAt] { appendBigEndian(UInt64(max(0, value)), width: 6, to: &bytes) }
        return bytes
    }

    /// The 6 bytes of a timestamp field (what a touch writes at ``lastSeenOffset``).
    public static func timestamp(_ milliseconds: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBigEndian(UInt64(max(0, milliseconds)), width: 6, to: &bytes)
        return bytes
    }

    /// The tail: version, checksum and body.
    public static func tail(version: Int, userIDJSON: [UInt8], metadataJSON: [UInt8], dataJSON: [UInt8]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(10 + userIDJSON.count + metadataJSON.count + dataJSON.count)
        appendBigEndian(UInt64(UInt32(truncatingIfNeeded: version)), width: 4, to: &bytes)
        bytes.append(contentsOf: [0, 0, 0, 0])
        bytes.append(contentsOf: userIDJSON)
        bytes.append(10)
        bytes.append(contentsOf: metadataJSON)
        bytes.append(10)
        bytes.append(contentsOf: dataJSON)
        let checksum = CRC32.checksum(bytes[8...])
        for index in 0..<4 { bytes[4 + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(24 - 8 * index)) }
        return bytes
    }

    /// The 4 bytes of a version field (what an update compares at ``tailOffset``).
    public static func version(_ version: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBigEndian(UInt64(UInt32(truncatingIfNeeded: version)), width: 4, to: &bytes)
        return bytes
    }

    /// Decodes a record read from `handle`'s key. Throws for anything malformed, truncated,
    /// oversized or of an unknown schema.
    public static func decode<Bytes: RandomAccessCollection>(
        _ bytes: Bytes,
        handle: SessionHandle,
        maximumSize: Int = 1 << 20
    ) throws(CorruptRecordError) -> StoredSession where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.count <= maximumSize else { throw CorruptRecordError(reason: "record larger than \(maximumSize) bytes") }
        guard bytes.count >= bodyOffset + 4 else { throw CorruptRecordError(reason: "record truncated") }
        let base = bytes.startIndex
        guard bytes[base] == schema else { throw CorruptRecordError(reason: "unknown record schema") }
        func number(_ offset: Int, _ width: Int) -> Int64 {
            var value: Int64 = 0
            for index in (base + offset)..<(base + offset + width) { value = value << 8 | Int64(bytes[index]) }
            return value
        }
        let createdAt = number(1, 6)
        let lastSeenAt = number(7, 6)
        let idleTimeout = number(13, 6)
        let expiresAt = number(19, 6)
        let version = number(tailOffset, 4)
        let checksum = UInt32(number(checksumOffset, 4))
        let body = bytes[(base + bodyOffset)...]
        guard CRC32.checksum(body) == checksum else { throw CorruptRecordError(reason: "checksum mismatch") }
        guard let firstBreak = body.firstIndex(of: 10),
            let secondBreak = body[(firstBreak + 1)...].firstIndex(of: 10)
        else { throw CorruptRecordError(reason: "malformed body") }
        let userIDJSON = Array(body[..<firstBreak])
        let metadataJSON = Array(body[(firstBreak + 1)..<secondBreak])
        let dataJSON = Array(body[(secondBreak + 1)...])
        guard userIDJSON.first == 34, metadataJSON.first == 123, dataJSON.first == 123 else {
            throw CorruptRecordError(reason: "malformed body")
        }
        return StoredSession(
            handle: handle,
            userIDJSON: userIDJSON,
            createdAt: createdAt,
            lastSeenAt: lastSeenAt,
            idleTimeout: idleTimeout,
            expiresAt: expiresAt,
            version: Int(version),
            metadataJSON: metadataJSON,
            dataJSON: dataJSON
        )
    }

    static func appendBigEndian(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: 8 * (width - 1), through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// CRC-32 (IEEE), table-driven.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
