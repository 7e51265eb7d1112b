import Crypto
import SessionTokens
import NIOConcurrencyHelpers

/// What a caller may do.
public struct Scope: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Resolve sessions (`sessions:read`).
    public static let read = Scope(rawValue: 1)
    /// Update, rotate and destroy a session whose token the caller presents (`sessions:write`).
    public static let write = Scope(rawValue: 2)
    /// List and purge any user's sessions, destroy by handle (`sessions:admin`).
    public static let admin = Scope(rawValue: 4)
    /// Create a session for any user id (`sessions:create`): the login service only.
    public static let create = Scope(rawValue: 8)
    /// Exchange a session for an access token, and forward-auth (`tokens:issue`): gateways.
    public static let issueTokens = Scope(rawValue: 16)
    /// Ask whether an access token is active (`tokens:introspect`).
    public static let introspectTokens = Scope(rawValue: 32)

    /// The scopes' names, space-separated (an OAuth `scope` value).
    public var names: String {
        Self.named.filter { self.contains($0.scope) }.map(\.name).joined(separator: " ")
    }

    /// The scope named `name`, if any.
    static func named(_ name: Substring) -> Scope? {
        Self.named.first { $0.name == name }?.scope
    }

    /// Every scope with its name in the keys file, in the order the docs list them.
    static let named: [(name: String, scope: Scope)] = [
        ("sessions:read", .read), ("sessions:create", .create), ("sessions:write", .write), ("sessions:admin", .admin),
        ("tokens:issue", .issueTokens), ("tokens:introspect", .introspectTokens),
    ]
}

/// A caller's API key: a name (for logs) and its scopes. The secret is kept only as a SHA-256 digest.
public struct APIKey: Sendable, Hashable {
    /// The key's name from the keys file (safe to log).
    public let name: String
    /// What it may do.
    public let scopes: Scope
    let digest: [UInt8]
    /// Names this exact key (secret and scopes): access tokens minted for the key carry it, so
    /// removing or changing the key ends them at once. A hash of the digest, so it reveals nothing.
    let version: String

    init(name: String, scopes: Scope, digest: [UInt8]) {
        self.name = name
        self.scopes = scopes
        self.digest = digest
        var material = Array("sessiond-key-version-1".utf8) + digest
        withUnsafeBytes(of: scopes.rawValue.bigEndian) { material += $0 }
        self.version = Base64URL.encode(SHA256.hash(data: material).prefix(12))
    }
}

/// The API keys, loaded from a file of `NAME SCOPES SECRET` lines.
///
/// One instance is shared by the router and the fast path; ``replace(with:)`` swaps the whole set at
/// once (`SIGHUP`), so a request sees either the old keys or the new ones, never a mix.
public final class APIKeys: Sendable {
    private let keys: NIOLockedValueBox<[APIKey]>

    /// The shortest secret accepted, in characters (about 190 bits as base64).
    public static let minimumSecretLength = 32

    /// Keys from already-parsed entries.
    public init(_ keys: [APIKey]) {
        self.keys = NIOLockedValueBox(keys)
    }

    /// Parses the keys file format: one key per line, `NAME SCOPES SECRET`. A `#` at the start of a
    /// line or of a field (after a space) starts a comment; inside a secret it is part of the secret.
    /// `SCOPES` is a comma-separated subset of `sessions:read`, `sessions:create`, `sessions:write`,
    /// `sessions:admin`; `SECRET` is the key itself (at least 32 characters) or `sha256:<64 hex>` of it.
    ///
    /// Refused with a one-line reason that never contains a secret: short secrets, secrets published
    /// in sessiond's repository (examples, docs), one secret under two names, duplicate names.
    public convenience init(parsing text: String) throws(ConfigurationError) {
        var keys: [APIKey] = []
        var names = Set<String>()
        var digests: [[UInt8]: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = "API keys file line \(number + 1)"
            var fields: [Substring] = []
            for field in rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if field.hasPrefix("#") { break }
                fields.append(field)
            }
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw ConfigurationError("\(line): expected NAME SCOPES SECRET (a secret may not contain spaces)")
            }
            var scopes: Scope = []
            for scope in fields[1].split(separator: ",") {
                guard let known = Scope.named(scope) else {
                    throw ConfigurationError("\(line): unknown scope (use \(Scope.named.map(\.name).joined(separator: ", ")))")
                }
                scopes.insert(known)
            }
            let secret = fields[2]
            let digest: [UInt8]
            if secret.hasPrefix("sha256:") {
                let hex = Array(secret.dropFirst("sha256:".count).utf8)
                guard hex.count == 64, let bytes = Self.decodeHex(hex) else {
                    throw ConfigurationError("\(line): sha256: must be followed by 64 hex digits")
                }
                digest = bytes
            } else {
                guard secret.count >= Self.minimumSecretLength else {
                    throw ConfigurationError(
                        "\(line): a secret must be at least \(Self.minimumSecretLength) characters (e.g. openssl rand -base64 32)"
                    )
                }
                digest = Array(SHA256.hash(data: Array(secret.utf8)))
            }
            if PublishedSecrets.contains(digest: digest) || secret.lowercased().contains("change-me") {
                throw ConfigurationError("\(line): this secret is published (an example or placeholder); generate one with openssl rand -base64 32")
            }
            let name = String(fields[0])
            guard names.insert(name).inserted else {
                throw ConfigurationError("\(line): duplicate key name")
            }
            if let other = digests[digest] {
                throw ConfigurationError("\(line): the same secret is already used by key '\(other)'; every key needs its own secret")
            }
            digests[digest] = name
            keys.append(APIKey(name: name, scopes: scopes, digest: digest))
        }
        self.init(keys)
    }

    /// Whether no key is configured.
    public var isEmpty: Bool { self.keys.withLockedValue { $0.isEmpty } }

    /// How many keys are configured.
    public var count: Int { self.keys.withLockedValue { $0.count } }

    /// Replaces every key with those of `other` at once (a reload).
    public func replace(with other: APIKeys) {
        let keys = other.keys.withLockedValue { $0 }
        self.keys.withLockedValue { $0 = keys }
    }

    /// The key called `name`, if any.
    public func key(named name: some StringProtocol) -> APIKey? {
        self.keys.withLockedValue { keys in keys.first { $0.name == name } }
    }

    /// The key named by an `Authorization: Bearer <key>` value, or nil.
    public func authenticate(authorization header: String) -> APIKey? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return self.authenticate(parts[1].trimmingSpaces)
    }

    /// The key whose secret is `presented`, comparing digests in constant time against every key.
    public func authenticate(_ presented: some StringProtocol) -> APIKey? {
        let digest = SHA256.hash(data: Array(presented.utf8))
        let keys = self.keys.withLockedValue { $0 }
        var match: APIKey? = nil
        for key in keys {
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

/// SHA-256 digests of every secret sessiond's repository has published (deploy/api-keys.example,
/// the README, compose files, now and in earlier versions). A key file that uses one is refused:
/// whoever can read this repository could use it. `APIKeysTests` checks that every secret in the
/// shipped example file is on this list.
enum PublishedSecrets {
    static let digests: Set<String> = [
        "96924c0068150868a4ba879302a615975a20647b611da9b723f9c89723a3433b", // change-me-login-0123456789
        "6441900c42eb9294817e505d753dc1afc9d542c0e88fdbc85bed3c365d4a5f01", // change-me-orders-0123456789
        "b2d0791844f338f58f5a1bce16be4a235d141ecbca9c7be4b205d1a835b90dc5", // change-me-admin-0123456789
        "40bd71c3360cbab904712bd2b73c9050574c2f18718fa20008acd7fbabad3e28", // change-me-login-use-openssl-rand-base64-32
        "2565b0865e38e4e250819f1445712e6a95e8a9a16e05e93623a38dd9a375c07b", // change-me-orders-use-openssl-rand-base64-32
        "bc3dfc81ec3313ec21775ec1eb22be9720375e015f499b3caff7f8e197a51db1", // change-me-admin-use-openssl-rand-base64-32
    ]

    static func contains(digest: [UInt8]) -> Bool {
        let hex = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in digest {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        return self.digests.contains(String(decoding: text, as: UTF8.self))
    }
}
