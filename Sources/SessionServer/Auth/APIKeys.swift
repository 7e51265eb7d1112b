import Crypto

/// What a caller may do.
public struct Scope: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Resolve sessions.
    public static let read = Scope(rawValue: 1)
    /// Create, update, rotate, destroy sessions.
    public static let write = Scope(rawValue: 2)
    /// List and purge any user's sessions.
    public static let admin = Scope(rawValue: 4)
}

/// A caller's API key: a name (for logs) and its scopes. The secret is kept only as a SHA-256 digest.
public struct APIKey: Sendable, Hashable {
    /// The key's name from the keys file (safe to log).
    public let name: String
    /// What it may do.
    public let scopes: Scope
    let digest: [UInt8]
}

/// The set of API keys, loaded from a file of `NAME SCOPES SECRET` lines.
public struct APIKeys: Sendable {
    private let keys: [APIKey]

    /// Keys from already-parsed entries.
    public init(_ keys: [APIKey]) {
        self.keys = keys
    }

    /// Parses the keys file format: one key per line, `NAME SCOPES SECRET`, `#` starts a comment;
    /// `SCOPES` is a comma-separated subset of `sessions:read`, `sessions:write`, `sessions:admin`;
    /// `SECRET` is the key itself or `sha256:<64 hex>` of it.
    public init(parsing text: String) throws(ConfigurationError) {
        var keys: [APIKey] = []
        var names = Set<String>()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw ConfigurationError("API keys file line \(number + 1): expected NAME SCOPES SECRET")
            }
            var scopes: Scope = []
            for scope in fields[1].split(separator: ",") {
                switch scope {
                case "sessions:read": scopes.insert(.read)
                case "sessions:write": scopes.insert(.write)
                case "sessions:admin": scopes.insert(.admin)
                default: throw ConfigurationError("API keys file line \(number + 1): unknown scope (use sessions:read, sessions:write, sessions:admin)")
                }
            }
            let secret = fields[2]
            let digest: [UInt8]
            if secret.hasPrefix("sha256:") {
                let hex = Array(secret.dropFirst("sha256:".count).utf8)
                guard hex.count == 64, let bytes = Self.decodeHex(hex) else {
                    throw ConfigurationError("API keys file line \(number + 1): sha256: must be followed by 64 hex digits")
                }
                digest = bytes
            } else {
                guard secret.utf8.count >= 16 else {
                    throw ConfigurationError("API keys file line \(number + 1): a key must be at least 16 characters")
                }
                digest = Array(SHA256.hash(data: Array(secret.utf8)))
            }
            guard names.insert(String(fields[0])).inserted else {
                throw ConfigurationError("API keys file line \(number + 1): duplicate key name")
            }
            keys.append(APIKey(name: String(fields[0]), scopes: scopes, digest: digest))
        }
        self.keys = keys
    }

    /// Whether no key is configured.
    public var isEmpty: Bool { self.keys.isEmpty }

    /// The key named by an `Authorization: Bearer <key>` value, or nil.
    public func authenticate(authorization header: String) -> APIKey? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return self.authenticate(parts[1].trimmingSpaces)
    }

    /// The key whose secret is `presented`, comparing digests in constant time against every key.
    public func authenticate(_ presented: some StringProtocol) -> APIKey? {
        let digest = SHA256.hash(data: Array(presented.utf8))
        var match: APIKey? = nil
        for key in self.keys {
            var difference: UInt8 = 0
            digest.withUnsafeBytes { bytes in
                for index in 0..<32 { difference |= bytes[index] ^ key.digest[index] }
            }
            if difference == 0 { match = key }
        }
        return match
    }

    private static func decodeHex(_ hex: [UInt8]) -> [UInt8]? {
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: return byte - 48
            case 65...70: return byte - 55
            case 97...102: return byte - 87
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        var index = 0
        while index < hex.count {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
