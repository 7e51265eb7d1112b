/// Why a stored record was refused. Such a record reads as absent (fail closed).
public struct CorruptRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong (never contains the record's content).
    public let reason: String
    public var description: String { self.reason }
}

/// The byte layout of a session record, shared by the Redis Lua scripts and the in-memory store.
///
/// ```
/// offset  size  field
///  0       2    schema "S1"
///  2      13    created_at      (Unix ms, zero-padded decimal)   ┐ written by Lua (server clock);
/// 15      13    last_seen_at                                      │ fixed width so scripts can
/// 28      13    idle_timeout    (ms)                              │ read and rewrite them with
/// 41      13    expires_at      (absolute deadline)               ┘ string.sub
/// 54      10    version                                          ┐ the "tail": written by Swift,
/// 64      22    user digest (names the user's index key)          │ replaced whole by updates
/// 86       8    CRC-32 of the body, hex                           │
/// 94       …    body: user_id JSON \n metadata JSON \n data JSON  ┘
/// ```
/// Compact JSON never contains a raw newline, so the body splits unambiguously.
public enum SessionRecordCodec {
    /// The schema this build reads and writes.
    public static let schema: [UInt8] = Array("S1".utf8)
    /// Byte offset of the tail (1-based position 55 in Lua).
    public static let tailOffset = 54
    static let digestOffset = 64
    static let checksumOffset = 86
    static let bodyOffset = 94

    /// The fixed-width timing header (used by the in-memory store; Lua builds the same bytes in Redis).
    public static func header(createdAt: Int64, lastSeenAt: Int64, idleTimeout: Int64, expiresAt: Int64) -> [UInt8] {
        var bytes = schema
        for value in [createdAt, lastSeenAt, idleTimeout, expiresAt] { appendPadded(value, width: 13, to: &bytes) }
        return bytes
    }

    /// The tail: version, user digest, checksum and body.
    public static func tail(version: Int, userDigest: UserDigest, userIDJSON: [UInt8], metadataJSON: [UInt8], dataJSON: [UInt8]) -> [UInt8] {
        var body = userIDJSON
        body.append(10)
        body.append(contentsOf: metadataJSON)
        body.append(10)
        body.append(contentsOf: dataJSON)
        var bytes = [UInt8]()
        bytes.reserveCapacity(40 + body.count)
        appendPadded(Int64(version), width: 10, to: &bytes)
        bytes.append(contentsOf: userDigest.value.utf8)
        let checksum = CRC32.checksum(body)
        let hex = Array("0123456789abcdef".utf8)
        for shift in stride(from: 28, through: 0, by: -4) { bytes.append(hex[Int((checksum >> UInt32(shift)) & 0xF)]) }
        bytes.append(contentsOf: body)
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
        guard bytes[base] == schema[0], bytes[base + 1] == schema[1] else {
            throw CorruptRecordError(reason: "unknown record schema")
        }
        func number(_ offset: Int, _ width: Int) throws(CorruptRecordError) -> Int64 {
            var value: Int64 = 0
            for index in (base + offset)..<(base + offset + width) {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { throw CorruptRecordError(reason: "non-numeric header field") }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        let createdAt = try number(2, 13)
        let lastSeenAt = try number(15, 13)
        let idleTimeout = try number(28, 13)
        let expiresAt = try number(41, 13)
        let version = try number(54, 10)
        var checksum: UInt32 = 0
        for index in (base + checksumOffset)..<(base + bodyOffset) {
            let byte = bytes[index]
            let nibble: UInt8
            switch byte {
            case 48...57: nibble = byte - 48
            case 97...102: nibble = byte - 87
            default: throw CorruptRecordError(reason: "malformed checksum")
            }
            checksum = checksum << 4 | UInt32(nibble)
        }
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

    static func appendPadded(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        let digits = Array(String(max(0, value)).utf8)
        if digits.count < width { bytes.append(contentsOf: repeatElement(48, count: width - digits.count)) }
        bytes.append(contentsOf: digits.suffix(width))
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
