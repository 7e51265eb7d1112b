/// Redis Cluster key hashing: `CRC16(key) mod 16384`, where a key holding `{…}` with at least one
/// byte between the first `{` and the next `}` hashes only those bytes (the hash tag).
public enum HashSlot {
    /// Number of slots in a Redis Cluster.
    public static let count = 16384

    /// The slot of `key`.
    public static func of(_ key: some Collection<UInt8>) -> Int {
        var bytes = Array(key)[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        {
            bytes = bytes[(open + 1)..<close]
        }
        return Int(crc16(bytes) & 0x3FFF)
    }

    /// The slot of a text key.
    public static func of(_ key: String) -> Int { self.of(Array(key.utf8)) }

    /// CRC16-CCITT (XModem), the variant Redis Cluster uses.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes { crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte)) & 0xFF] }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
