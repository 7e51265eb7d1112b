import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SessionCore
import SessionTokens

/// One line of the signing-keys file: a private key and the window in which it signs.
public struct SigningKeyEntry: Sendable {
    /// The key (never logged, stored or sent).
    public let key: PrivateSigningKey
    /// Unix seconds from which it may sign.
    public let signFrom: Int64
    /// Unix seconds until which it may sign (nil: open end).
    public let signUntil: Int64?
    /// SHA-256 of the public key's JWK: a reload may not give a known `kid` another key.
    let fingerprint: [UInt8]

    /// Whether the key signs at `now`.
    func signs(at now: Int64) -> Bool {
        self.signFrom <= now && self.signUntil.map { now < $0 } ?? true
    }
}

/// The signing keys, read from the file named by `--signing-keys-file`:
///
/// ```
/// # KID     ALG    SIGN_FROM             SIGN_UNTIL            PEM_FILE (relative to this file)
/// k2026a    ES256  2026-01-01T00:00:00Z  2027-01-01T00:00:00Z  k2026a.pem
/// ```
///
/// Every replica reads the same file and decides by the clock which key signs (of those inside
/// their window, the latest `SIGN_FROM`) and which are published (from `SIGN_FROM` minus the JWKS
/// cache lifetime until `SIGN_UNTIL` plus the longest token lifetime), so replicas agree whenever
/// they loaded it. ``replace(with:)`` swaps the set at once on `SIGHUP`.
public final class SigningKeyring: Sendable {
    private let entries: NIOLockedValueBox<[SigningKeyEntry]>

    /// A keyring of already-parsed entries.
    public init(_ entries: [SigningKeyEntry]) {
        self.entries = NIOLockedValueBox(entries)
    }

    /// The entries of a keys file's text; PEM paths are relative to `directory`. Refused with a
    /// one-line reason (never key material): a malformed line, an unknown algorithm, a date that is
    /// not RFC 3339 UTC, `SIGN_UNTIL` not after `SIGN_FROM`, an unreadable PEM or one that is not a
    /// private key of the algorithm, a duplicate or unsafe `KID`, no key at all.
    public static func parse(_ text: String, directory: String) throws(ConfigurationError) -> [SigningKeyEntry] {
        var entries: [SigningKeyEntry] = []
        var keyIDs = Set<String>()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = "signing keys file line \(number + 1)"
            var fields: [Substring] = []
            for field in rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if field.hasPrefix("#") { break }
                fields.append(field)
            }
            if fields.isEmpty { continue }
            guard fields.count == 5 else { throw ConfigurationError("\(line): expected KID ALG SIGN_FROM SIGN_UNTIL PEM_FILE") }
            let keyID = String(fields[0])
            guard PrivateSigningKey.isValidKeyID(keyID) else { throw ConfigurationError("\(line): a KID is 1–64 characters of A–Z a–z 0–9 . - _") }
            guard keyIDs.insert(keyID).inserted else { throw ConfigurationError("\(line): duplicate KID \(keyID)") }
            guard let algorithm = JWSAlgorithm(rawValue: String(fields[1])) else {
                throw ConfigurationError("\(line): ALG must be ES256 or EdDSA")
            }
            guard let signFrom = Self.parseDate(fields[2]) else {
                throw ConfigurationError("\(line): SIGN_FROM must be a UTC time like 2026-01-01T00:00:00Z")
            }
            var signUntil: Int64? = nil
            if fields[3] != "-" {
                guard let until = Self.parseDate(fields[3]) else {
                    throw ConfigurationError("\(line): SIGN_UNTIL must be a UTC time like 2027-01-01T00:00:00Z, or - for an open end")
                }
                guard until > signFrom else { throw ConfigurationError("\(line): SIGN_UNTIL must be after SIGN_FROM") }
                signUntil = until
            }
            let pemPath = fields[4].hasPrefix("/") ? String(fields[4]) : directory + "/" + fields[4]
            guard let pem = try? String(contentsOfFile: pemPath, encoding: .utf8) else {
                throw ConfigurationError("\(line): cannot read the PEM file \(fields[4])")
            }
            let key: PrivateSigningKey
            do {
                key = try PrivateSigningKey(keyID: keyID, algorithm: algorithm, pem: pem)
            } catch {
                throw ConfigurationError("\(line): \(error.reason)")
            }
            entries.append(
                SigningKeyEntry(key: key, signFrom: signFrom, signUntil: signUntil, fingerprint: SHA256Digest.of(key.publicKey.jwk))
            )
        }
        guard !entries.isEmpty else { throw ConfigurationError("the signing keys file holds no key") }
        return entries
    }

    /// The keys in the file at `path`, which must have a key signing at `now`.
    public static func load(path: String, now: Int64 = WallClock.milliseconds() / 1000) throws(ConfigurationError) -> [SigningKeyEntry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read the signing keys file \(path)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let entries = try self.parse(text, directory: directory.isEmpty ? "." : directory)
        guard entries.contains(where: { $0.signs(at: now) }) else {
            throw ConfigurationError("no key in the signing keys file \(path) signs now (check SIGN_FROM and SIGN_UNTIL)")
        }
        return entries
    }

    /// Replaces the keys at once (a reload). Refused when a `kid` already in use names another key:
    /// verifiers cache keys by `kid`, so a `kid` is forever one key.
    public func replace(with fresh: [SigningKeyEntry]) throws(ConfigurationError) {
        let current = self.entries.withLockedValue { $0 }
        for entry in fresh {
            if let old = current.first(where: { $0.key.keyID == entry.key.keyID }), old.fingerprint != entry.fingerprint {
                throw ConfigurationError("KID \(entry.key.keyID) now names another key; give a new key a new KID")
            }
        }
        self.entries.withLockedValue { $0 = fresh }
    }

    /// The key that signs at `now`: of those inside their window, the latest `SIGN_FROM`.
    public func signer(at now: Int64) -> PrivateSigningKey? {
        self.entries.withLockedValue { entries in
            entries.filter { $0.signs(at: now) }.max { $0.signFrom < $1.signFrom }?.key
        }
    }

    /// The public keys published at `now`: from `SIGN_FROM - cacheLifetime` (so every verifier's cached
    /// set holds a key before it signs) until `SIGN_UNTIL + longestTokenLifetime` (so every token it
    /// signed can still be checked).
    public func published(at now: Int64, cacheLifetime: Int64, longestTokenLifetime: Int64) -> KeySet {
        let keys = self.entries.withLockedValue { entries in
            entries.filter { entry in
                entry.signFrom - cacheLifetime <= now && entry.signUntil.map { now < $0 + longestTokenLifetime } ?? true
            }.map(\.key.publicKey)
        }
        return KeySet(keys)
    }

    /// The entries (for warnings after a reload).
    var all: [SigningKeyEntry] { self.entries.withLockedValue { $0 } }

    /// `2026-01-01T00:00:00Z` (exactly this shape) as Unix seconds.
    static func parseDate(_ text: Substring) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...monthDays[Int(month) - 1]).contains(day) else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }
}

enum SHA256Digest {
    static func of(_ bytes: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: bytes))
    }
}

/// Reloads the signing-keys file on `SIGHUP`. A file that breaks a rule keeps the old keys and says why.
public struct SigningKeyReloader: ReloadedOnHangup {
    let keyring: SigningKeyring
    let path: String
    let jwksMaxAge: Int64
    let logger: Logger

    /// A reloader of `path` into `keyring`.
    public init(keyring: SigningKeyring, path: String, jwksMaxAge: Int, logger: Logger) {
        self.keyring = keyring
        self.path = path
        self.jwksMaxAge = Int64(jwksMaxAge)
        self.logger = logger
    }

    /// Loads the file again; the outcome is logged either way.
    public func reload() {
        do {
            let now = WallClock.milliseconds() / 1000
            let previous = Set(self.keyring.all.map(\.key.keyID))
            let fresh = try SigningKeyring.load(path: self.path, now: now)
            try self.keyring.replace(with: fresh)
            self.logger.notice("signing keys reloaded", metadata: ["signing_keys.count": "\(fresh.count)"])
            for entry in fresh where !previous.contains(entry.key.keyID) && entry.signFrom - self.jwksMaxAge < now {
                // Verifiers that cached the key set before this reload learn the key on its first
                // token (an unknown kid triggers a refetch), not ahead of it.
                self.logger.warning(
                    "a new signing key signs sooner than one JWKS cache lifetime from now; give SIGN_FROM more notice",
                    metadata: ["signing_key.kid": "\(entry.key.keyID)"]
                )
            }
        } catch {
            self.logger.error("signing keys file refused; the previous keys stay in force", metadata: ["reason": "\(error.reason)"])
        }
    }
}
