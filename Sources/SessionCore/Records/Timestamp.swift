/// RFC 3339 UTC formatting of Unix milliseconds, without Foundation's formatters (hot path).
public enum Timestamp {
    /// `2026-11-29T03:46:57.123Z`.
    public static func rfc3339(milliseconds: Int64) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        self.appendRFC3339(milliseconds: milliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `2026-11-29T03:46:57.123Z` to `bytes`.
    public static func appendRFC3339(milliseconds: Int64, to bytes: inout [UInt8]) {
        let millis = Int(milliseconds % 1000 + 1000) % 1000
        let seconds = (milliseconds - Int64(millis)) / 1000
        var days = Int(seconds / 86_400)
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) { bytes.append(UInt8(48 + value / 10)); bytes.append(UInt8(48 + value % 10)) }
        two(year / 100); two(year % 100)
        bytes.append(45); two(month); bytes.append(45); two(day)
        bytes.append(84); two(secondOfDay / 3600); bytes.append(58); two(secondOfDay / 60 % 60); bytes.append(58); two(secondOfDay % 60)
        bytes.append(46); bytes.append(UInt8(48 + millis / 100)); two(millis % 100)
        bytes.append(90)
    }
}
