import Foundation

/// A session as sessiond returns it. `data` is kept as raw JSON; decode it with ``data(as:)``.
public struct Session: Sendable, Hashable {
    /// The non-secret handle (what admins use).
    public let handle: String
    /// The user id.
    public let userID: String
    /// Creation time.
    public let createdAt: Date
    /// When the idle deadline was last slid.
    public let lastSeenAt: Date
    /// When the session ends unless used again.
    public let idleExpiresAt: Date
    /// Absolute deadline.
    public let expiresAt: Date
    /// Incremented by every update (the `ETag`).
    public let version: Int
    /// Client IP recorded at creation, if any.
    public let ip: String?
    /// User agent recorded at creation, if any.
    public let userAgent: String?
    /// The session object's JSON as received (holds `data`).
    public let json: Data

    /// Decodes the session's `data` object into `type`.
    public func data<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(DataEnvelope<T>.self, from: self.json).data
    }

    /// The instant the cached copy of this session stops being usable: the earlier of its deadlines.
    var usableUntil: Date { min(self.idleExpiresAt, self.expiresAt) }

    init(json: Data) throws {
        let scanner = JSONObjectScanner(bytes: [UInt8](json))
        var handle: String?, userID: String?, version: Int?, metadata: Range<Int>?
        var created: Date?, lastSeen: Date?, idle: Date?, expires: Date?
        do {
            for (key, range) in try scanner.members() {
                switch key {
                case "handle": handle = try scanner.string(range)
                case "user_id": userID = try scanner.string(range)
                case "created_at": created = RFC3339.parse(scanner.bytes[range])
                case "last_seen_at": lastSeen = RFC3339.parse(scanner.bytes[range])
                case "idle_expires_at": idle = RFC3339.parse(scanner.bytes[range])
                case "expires_at": expires = RFC3339.parse(scanner.bytes[range])
                case "version": version = Int(scanner.text(range))
                case "metadata": metadata = range
                default: continue
                }
            }
            var ip: String?, userAgent: String?
            if let metadata {
                for (key, range) in try scanner.members(in: metadata) {
                    if key == "ip" { ip = try? scanner.string(range) }
                    if key == "user_agent" { userAgent = try? scanner.string(range) }
                }
            }
            self.ip = ip
            self.userAgent = userAgent
        } catch {
            throw SessionClientError(.invalidResponse, message: "malformed session JSON")
        }
        guard let handle, let userID, let version, let created, let lastSeen, let idle, let expires else {
            throw SessionClientError(.invalidResponse, message: "session JSON lacks a field or has a malformed one")
        }
        self.handle = handle
        self.userID = userID
        self.createdAt = created
        self.lastSeenAt = lastSeen
        self.idleExpiresAt = idle
        self.expiresAt = expires
        self.version = version
        self.json = json
    }

    private struct DataEnvelope<T: Decodable>: Decodable {
        let data: T
    }
}

/// A session with a newly issued token (create and rotate).
public struct IssuedSession: Sendable {
    /// The token: hand it to the browser (``setCookie``) and forget it.
    public let token: String
    /// The session.
    public let session: Session
    /// A ready `Set-Cookie` header value.
    public let setCookie: String
}

/// Parses sessiond's RFC 3339 UTC timestamps (`2026-11-29T03:46:57.123Z`) without a formatter.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        self.parse(Array(text.utf8)[...])
    }

    /// Parses a quoted (`"…"`) or bare timestamp's bytes.
    static func parse(_ slice: ArraySlice<UInt8>) -> Date? {
        var slice = slice
        if slice.count >= 2, slice.first == 34, slice.last == 34 { slice = slice.dropFirst().dropLast() }
        return slice.withUnsafeBufferPointer { Self.parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count >= 20, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58, bytes.last == 90 else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millis = 0
        if bytes[19] == 46 {
            guard bytes.count == 24, let fraction = number(20..<23) else { return nil }
            millis = fraction
        }
        // days_from_civil (Howard Hinnant).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second) + Double(millis) / 1000
        return Date(timeIntervalSince1970: seconds)
    }
}
