import Crypto
import Foundation

/// The JWS algorithms sessiond signs and verifies with. Nothing else is ever accepted: not `none`,
/// not HMAC (whose "key" a verifier would take from the public JWKS), not RSA.
public enum JWSAlgorithm: String, Sendable, CaseIterable, Hashable {
    /// ECDSA over P-256 with SHA-256 (RFC 7518 §3.4): what every gateway understands; the default.
    case es256 = "ES256"
    /// Ed25519 (RFC 8037).
    case edDSA = "EdDSA"
}

/// A public key a token's signature is checked with: its `kid`, its one algorithm and the key.
public struct PublicSigningKey: Sendable, Hashable {
    enum Key: Sendable, Hashable {
        case p256(x: [UInt8], y: [UInt8])
        case ed25519([UInt8])
    }

    /// The key id (`kid`) tokens name it by.
    public let keyID: String
    /// The only algorithm this key verifies.
    public let algorithm: JWSAlgorithm
    let key: Key
    private let verifier: Verifier

    init(keyID: String, algorithm: JWSAlgorithm, key: Key) throws(KeyError) {
        self.keyID = keyID
        self.algorithm = algorithm
        self.key = key
        switch key {
        case .p256(let x, let y):
            guard x.count == 32, y.count == 32,
                let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { throw KeyError("key \(keyID): not a P-256 point") }
            self.verifier = .p256(publicKey)
        case .ed25519(let raw):
            guard raw.count == 32, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw KeyError("key \(keyID): not an Ed25519 public key")
            }
            self.verifier = .ed25519(publicKey)
        }
    }

    /// Whether `signature` is this key's over `message` (the JWS signing input).
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        switch self.verifier {
        case .p256(let key):
            // JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4), never DER.
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: message)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: message)
        }
    }

    /// The JWK of this key (RFC 7517): public members only.
    public var jwk: [UInt8] {
        var json = Array(#"{"kty":"#.utf8)
        switch self.key {
        case .p256(let x, let y):
            json += #""EC","crv":"P-256","x":""#.utf8
            json += Base64URL.encodeBytes(x)
            json += #"","y":""#.utf8
            json += Base64URL.encodeBytes(y)
        case .ed25519(let raw):
            json += #""OKP","crv":"Ed25519","x":""#.utf8
            json += Base64URL.encodeBytes(raw)
        }
        json += #"","kid":"#.utf8
        JSONText.appendQuoted(self.keyID, to: &json)
        json += #","alg":""#.utf8
        json += self.algorithm.rawValue.utf8
        json += #"","use":"sig"}"#.utf8
        return json
    }

    /// The key of a JWK object; nil for anything that is not a public signing key of an allowed
    /// algorithm (a JWK with private members, another `use`, an unknown curve, no `kid`).
    init?(jwk object: [String: Any]) {
        guard let keyID = object["kid"] as? String, !keyID.isEmpty,
            let algorithmName = object["alg"] as? String, let algorithm = JWSAlgorithm(rawValue: algorithmName),
            (object["use"] as? String).map({ $0 == "sig" }) ?? true,
            object["d"] == nil
        else { return nil }
        let key: Key
        switch (object["kty"] as? String, object["crv"] as? String, algorithm) {
        case ("EC", "P-256", .es256):
            guard let x = (object["x"] as? String).flatMap({ Base64URL.decode(Array($0.utf8)) }),
                let y = (object["y"] as? String).flatMap({ Base64URL.decode(Array($0.utf8)) })
            else { return nil }
            key = .p256(x: x, y: y)
        case ("OKP", "Ed25519", .edDSA):
            guard let x = (object["x"] as? String).flatMap({ Base64URL.decode(Array($0.utf8)) }) else { return nil }
            key = .ed25519(x)
        default:
            return nil
        }
        guard let parsed = try? PublicSigningKey(keyID: keyID, algorithm: algorithm, key: key) else { return nil }
        self = parsed
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.keyID == rhs.keyID && lhs.algorithm == rhs.algorithm && lhs.key == rhs.key
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.keyID)
        hasher.combine(self.key)
    }

    private enum Verifier: @unchecked Sendable {
        case p256(P256.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }
}

/// A private signing key: held by sessiond only, read from a PKCS#8 PEM file, never written anywhere.
/// `description` never shows it.
public struct PrivateSigningKey: Sendable, CustomStringConvertible {
    private enum Signer: @unchecked Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    /// The key id.
    public let keyID: String
    /// Its algorithm.
    public let algorithm: JWSAlgorithm
    /// Its public half.
    public let publicKey: PublicSigningKey
    private let signer: Signer

    /// The key in a PKCS#8 PEM (`openssl genpkey` output; for ES256 a SEC1 `EC PRIVATE KEY` works too).
    /// Refused when the PEM is not a private key of `algorithm`'s curve.
    public init(keyID: String, algorithm: JWSAlgorithm, pem: String) throws(KeyError) {
        switch algorithm {
        case .es256:
            guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else {
                throw KeyError("key \(keyID): the PEM is not a P-256 private key (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)")
            }
            try self.init(keyID: keyID, signer: .p256(key))
        case .edDSA:
            guard let raw = Self.ed25519Seed(pem: pem), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
                throw KeyError("key \(keyID): the PEM is not an Ed25519 private key (openssl genpkey -algorithm ed25519)")
            }
            try self.init(keyID: keyID, signer: .ed25519(key))
        }
    }

    /// Whether `keyID` is a usable `kid`: 1–64 characters of A–Z a–z 0–9 . - _ (safe in a file
    /// name, a header and a log line).
    public static func isValidKeyID(_ keyID: String) -> Bool {
        (1...64).contains(keyID.utf8.count) && Base64URL.isAlphabet(Substring(keyID.replacingOccurrences(of: ".", with: "_")).utf8)
    }

    /// A new random key (for `sessionctl keys generate`, development and tests).
    public static func generate(keyID: String, algorithm: JWSAlgorithm) -> PrivateSigningKey {
        switch algorithm {
        case .es256: return try! PrivateSigningKey(keyID: keyID, signer: .p256(P256.Signing.PrivateKey()))
        case .edDSA: return try! PrivateSigningKey(keyID: keyID, signer: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    private init(keyID: String, signer: Signer) throws(KeyError) {
        self.keyID = keyID
        self.signer = signer
        switch signer {
        case .p256(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            self.algorithm = .es256
            self.publicKey = try PublicSigningKey(keyID: keyID, algorithm: .es256, key: .p256(x: Array(raw[0..<32]), y: Array(raw[32..<64])))
        case .ed25519(let key):
            self.algorithm = .edDSA
            self.publicKey = try PublicSigningKey(keyID: keyID, algorithm: .edDSA, key: .ed25519(Array(key.publicKey.rawRepresentation)))
        }
    }

    /// The PKCS#8 PEM of the key, as `openssl genpkey` writes it (to save a generated key).
    public var pkcs8PEM: String {
        let der: [UInt8]
        switch self.signer {
        case .p256(let key): return key.pemRepresentation
        case .ed25519(let key): der = Self.ed25519PKCS8Prefix + Array(key.rawRepresentation)
        }
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PRIVATE KEY-----\n\(base64)\n-----END PRIVATE KEY-----\n"
    }

    /// The JWS signature of `message`: r || s for ES256, the Ed25519 signature for EdDSA.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        switch self.signer {
        case .p256(let key):
            // swift-crypto hashes with SHA-256 and draws a fresh nonce from the system CSPRNG.
            return Array(try! key.signature(for: message).rawRepresentation)
        case .ed25519(let key):
            return Array(try! key.signature(for: message))
        }
    }

    public var description: String { "PrivateSigningKey(\(self.keyID), \(self.algorithm.rawValue), redacted)" }

    /// DER of a PKCS#8 Ed25519 private key up to its 32-byte seed (RFC 8410 §7): the only shape
    /// `openssl genpkey -algorithm ed25519` writes.
    private static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    private static func ed25519Seed(pem: String) -> [UInt8]? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN PRIVATE KEY-----"),
            let end = lines.firstIndex(of: "-----END PRIVATE KEY-----"), begin < end,
            let der = Data(base64Encoded: lines[(begin + 1)..<end].joined())
        else { return nil }
        let bytes = Array(der)
        guard bytes.count == 48, Array(bytes[0..<16]) == self.ed25519PKCS8Prefix else { return nil }
        return Array(bytes[16...])
    }
}

/// Why a key or key set was refused: one line, never key material.
public struct KeyError: Error, Sendable, CustomStringConvertible {
    /// The reason.
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { self.reason }
}

/// A JSON Web Key Set (RFC 7517 §5) of public signing keys, by `kid`.
public struct KeySet: Sendable, Hashable {
    /// The keys by key id.
    public let keys: [String: PublicSigningKey]

    /// A set of `keys` (a later key with the same id wins).
    public init(_ keys: [PublicSigningKey]) {
        var byID: [String: PublicSigningKey] = [:]
        for key in keys { byID[key.keyID] = key }
        self.keys = byID
    }

    /// The set in a JWKS document. Members this verifier cannot use (other algorithms, encryption
    /// keys) are skipped, as RFC 7517 §5 asks; a document that is not a key set at all throws.
    public init(jwks: [UInt8]) throws(KeyError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jwks)) as? [String: Any],
            let keys = object["keys"] as? [Any]
        else { throw KeyError("not a JWK Set") }
        self.init(keys.compactMap { ($0 as? [String: Any]).flatMap(PublicSigningKey.init(jwk:)) })
    }

    /// The JWKS document: `{"keys":[…]}` in key-id order, public members only.
    public var jwks: [UInt8] {
        var json = Array(#"{"keys":["#.utf8)
        for (index, key) in self.keys.values.sorted(by: { $0.keyID < $1.keyID }).enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json += key.jwk
        }
        json += "]}".utf8
        return json
    }
}

/// JSON string quoting shared by the token code.
public enum JSONText {
    /// Appends `text` as a JSON string literal (RFC 8259 escapes; non-ASCII kept as UTF-8).
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole instead of byte by byte.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += #"\""#.utf8
            case UInt8(ascii: "\\"): bytes += #"\\"#.utf8
            case 0x0A: bytes += #"\n"#.utf8
            case 0x0D: bytes += #"\r"#.utf8
            case 0x09: bytes += #"\t"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += #"\u00"#.utf8
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
