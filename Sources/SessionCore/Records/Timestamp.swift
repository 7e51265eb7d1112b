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
        let (year, month, day) = self.civil(days: days)
        func two(_ value: Int) { bytes.append(UInt8(48 + value / 10)); bytes.append(UInt8(48 + value % 10)) }
        two(year / 100); two(year % 100)
        bytes.append(45); two(month); bytes.append(45); two(day)
        bytes.append(84); two(secondOfDay / 3600); bytes.append(58); two(secondOfDay / 60 % 60); bytes.append(58); two(secondOfDay % 60)
        bytes.append(46); bytes.append(UInt8(48 + millis / 100)); two(millis % 100)
        bytes.append(90)
    }

    /// The HTTP `Date` header form (IMF-fixdate, RFC 9110): `Sun, 29 Nov 2026 05:41:43 GMT`.
    public static func httpDate(seconds: Int64) -> String {
        var days = Int(seconds / 86_400)
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = self.civil(days: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = weekdays[((days % 7) + 7) % 7]
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// Howard Hinnant's civil_from_days: (year, month 1–12, day 1–31) of a day count since 1970-01-01.
    private static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
