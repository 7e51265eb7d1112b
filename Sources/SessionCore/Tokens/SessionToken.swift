import Crypto
import SessionTokens

/// A session token: the bearer secret in the cookie. Treat it like a password.
///
/// Shape: a 4-character slot tag derived from the user (so the session key and the user's index
/// share a Redis Cluster hash slot) followed by 43 characters of URL-safe base64 carrying 256 bits
/// from the system CSPRNG. `description` never reveals it.
public struct SessionToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The token's text, for the `Set-Cookie` header and the response body only.
    public let value: String

    /// Length of a token's text.
    public static let length = SlotTag.length + 43

    /// A new token for `userID`.
    public static func generate(for userID: String) -> SessionToken {
        self.generate(slotTag: SlotTag(userID: userID))
    }

    /// A new token with the same slot tag as `token` (rotation: old key, new key and the user's index
    /// stay in one hash slot), never equal to it.
    public static func generate(replacing token: SessionToken) -> SessionToken {
        var fresh: SessionToken
        repeat { fresh = self.generate(slotTag: token.slotTag) } while fresh == token
        return fresh
    }

    private static func generate(slotTag: SlotTag) -> SessionToken {
        let random = SecureRandom.bytes(32)
        return SessionToken(value: slotTag.value + Base64URL.encode(random))
    }

    /// Accepts text only if it has the exact shape of a token sessiond issues; anything else is `nil`
    /// (and must be answered with 404 without asking Redis).
    public init?(parsing text: Substring) {
        guard text.utf8.count == Self.length, Base64URL.isAlphabet(text.utf8) else { return nil }
        self.value = String(text)
    }

    /// Accepts text only if it has the exact shape of a token sessiond issues.
    public init?(parsing text: String) {
        self.init(parsing: Substring(text))
    }

    private init(value: String) {
        self.value = value
    }

    /// The slot tag at the start of the token.
    public var slotTag: SlotTag { SlotTag(trusted: String(self.value.prefix(SlotTag.length))) }

    /// The non-secret handle: the slot tag and a SHA-256 digest of the whole token.
    public var handle: SessionHandle {
        let digest = SHA256.hash(data: Array(self.value.utf8))
        return SessionHandle(trusted: self.slotTag.value + String(Base64URL.encode(digest).prefix(SessionHandle.digestLength)))
    }

    public var description: String { "SessionToken(redacted)" }
    public var debugDescription: String { "SessionToken(redacted)" }
    /// No children: `dump()` and debuggers' mirrors never show the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// The first characters of a token and a handle: a short hash of the user id that places a user's
/// keys in one Redis Cluster hash slot. It reveals 24 bits of a hash of the user id, nothing more.
public struct SlotTag: Sendable, Hashable {
    /// Number of characters.
    public static let length = 4
    /// The tag's text.
    public let value: String

    /// The tag of `userID`.
    public init(userID: String) {
        let digest = SHA256.hash(data: Array(("slot:" + userID).utf8))
        self.value = String(Base64URL.encode(digest).prefix(Self.length))
    }

    init(trusted value: String) {
        self.value = value
    }
}

/// A session's public identifier: safe to show admins and to log, useless as a token.
public struct SessionHandle: Sendable, Hashable, CustomStringConvertible {
    static let digestLength = 32
    /// Length of a handle's text.
    public static let length = SlotTag.length + digestLength
    /// The handle's text.
    public let value: String

    /// Accepts text only if it has the shape of a handle.
    public init?(parsing text: Substring) {
        guard text.utf8.count == Self.length, Base64URL.isAlphabet(text.utf8) else { return nil }
        self.value = String(text)
    }

    /// Accepts text only if it has the shape of a handle.
    public init?(parsing text: String) {
        self.init(parsing: Substring(text))
    }

    init(trusted value: String) {
        self.value = value
    }

    /// The slot tag at the start of the handle.
    public var slotTag: SlotTag { SlotTag(trusted: String(self.value.prefix(SlotTag.length))) }
    /// The digest part (the member stored in the user's index).
    public var digest: Substring { self.value.dropFirst(SlotTag.length) }

    public var description: String { self.value }
}

/// A short, stable, non-reversible digest of a user id: names the user's index key.
///
/// The first 24 hex digits of SHA-1 over the user id as a JSON string literal, exactly as the record
/// stores it, because the Lua scripts derive it from a record with `redis.sha1hex` (the one hash Redis
/// scripts have) when they destroy or rotate a session. It is a name, not a secret: what it must
/// resist is a second preimage within one slot tag (96 + 24 bits), not a collision between two ids
/// an attacker chooses, so SHA-1's known weakness does not apply. See docs/redis-layout.md.
public struct UserDigest: Sendable, Hashable {
    /// Number of characters.
    public static let length = 24
    /// The digest's text.
    public let value: String

    /// The digest of `userID`.
    public init(userID: String) {
        var literal = [UInt8]()
        JSONValue.appendQuoted(userID, to: &literal)
        self.init(userIDJSON: literal)
    }

    /// The digest of a user id given as its stored JSON string literal.
    public init(userIDJSON: [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(Self.length)
        for byte in Insecure.SHA1.hash(data: userIDJSON).prefix(Self.length / 2) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        self.value = String(decoding: text, as: UTF8.self)
    }
}
