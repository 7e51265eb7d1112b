import Foundation

/// RFC 9068 access tokens: JWS compact serialization, `typ: at+jwt`, signed by a ``PrivateSigningKey``.
public enum AccessTokenJWT {
    /// The largest token either side handles (a gateway header is usually limited to 8 KiB).
    public static let maximumLength = 8192

    /// Signs `claims` (a JSON object, exact bytes) with `key`: `header.payload.signature`.
    public static func sign(claims: [UInt8], with key: PrivateSigningKey) -> String {
        var header = Array(#"{"alg":""#.utf8)
        header += key.algorithm.rawValue.utf8
        header += #"","typ":"at+jwt","kid":"#.utf8
        JSONText.appendQuoted(key.keyID, to: &header)
        header.append(UInt8(ascii: "}"))
        var input = Base64URL.encodeBytes(header)
        input.append(UInt8(ascii: "."))
        input += Base64URL.encodeBytes(claims)
        let signature = key.sign(input)
        input.append(UInt8(ascii: "."))
        input += Base64URL.encodeBytes(signature)
        return String(decoding: input, as: UTF8.self)
    }

    /// What a token must be to pass: signed by a key of `keys`, issued by `issuer` for one of `audiences`.
    public struct Expectations: Sendable {
        /// The only accepted `iss`.
        public var issuer: String
        /// Accepted `aud` values (a token passes when it names one of them).
        public var audiences: Set<String>
        /// Clock skew forgiven on `exp`, `nbf` and `iat`, in seconds.
        public var leeway: Int64

        /// Expectations for tokens of `issuer` meant for one of `audiences`.
        public init(issuer: String, audiences: Set<String>, leeway: Int64 = 5) {
            self.issuer = issuer
            self.audiences = audiences
            self.leeway = leeway
        }
    }

    /// Why a token was refused (for tests and debug logs; callers only see "invalid").
    public enum Rejection: String, Error, Sendable, Hashable {
        case malformed, algorithmNotAllowed, wrongType, criticalHeader, missingKeyID, unknownKeyID
        case algorithmMismatch, badSignature, wrongIssuer, wrongAudience, expired, notYetValid, missingClaim
    }

    /// Checks everything a verifier must, in this order, against fixed allow-lists:
    /// shape and size; header `alg` ∈ {ES256, EdDSA} (never `none` or HMAC); `typ` = `at+jwt`;
    /// no `crit`; `kid` present and in `keys` (no fallback to any other key); the key's algorithm equals
    /// `alg`; the signature; then `iss`, `aud`, `exp`, `nbf`, `iat` (with leeway), `sub` and `jti`.
    public static func validate(
        _ token: some StringProtocol,
        keys: KeySet,
        expectations: Expectations,
        now: Int64
    ) -> Result<VerifiedAccessToken, Rejection> {
        let bytes = Array(token.utf8)
        guard bytes.count <= self.maximumLength else { return .failure(.malformed) }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { return .failure(.malformed) }
        let headerPart = bytes[..<dots[0]]
        let payloadPart = bytes[(dots[0] + 1)..<dots[1]]
        let signaturePart = bytes[(dots[1] + 1)...]
        guard !headerPart.isEmpty, !payloadPart.isEmpty, let headerBytes = Base64URL.decode(headerPart),
            let header = Self.object(headerBytes)
        else { return .failure(.malformed) }
        guard let algorithmName = header["alg"] as? String, let algorithm = JWSAlgorithm(rawValue: algorithmName) else {
            return .failure(.algorithmNotAllowed)
        }
        guard let type = header["typ"] as? String, ["at+jwt", "application/at+jwt"].contains(type.lowercased()) else {
            return .failure(.wrongType)
        }
        // No extension is understood, so any critical one makes the token unusable (RFC 7515 §4.1.11).
        guard header["crit"] == nil else { return .failure(.criticalHeader) }
        guard let keyID = header["kid"] as? String, !keyID.isEmpty else { return .failure(.missingKeyID) }
        guard let key = keys.keys[keyID] else { return .failure(.unknownKeyID) }
        guard key.algorithm == algorithm else { return .failure(.algorithmMismatch) }
        guard let signature = Base64URL.decode(signaturePart),
            key.isValidSignature(signature, for: Array(bytes[..<dots[1]]))
        else { return .failure(.badSignature) }
        guard let payloadBytes = Base64URL.decode(payloadPart), let claims = Self.object(payloadBytes) else {
            return .failure(.malformed)
        }
        guard claims["iss"] as? String == expectations.issuer else { return .failure(.wrongIssuer) }
        let audiences: [String]
        switch claims["aud"] {
        case let single as String: audiences = [single]
        case let many as [Any]: audiences = many.compactMap { $0 as? String }
        default: return .failure(.wrongAudience)
        }
        guard audiences.contains(where: expectations.audiences.contains) else { return .failure(.wrongAudience) }
        guard let expiresAt = Self.seconds(claims["exp"]), let issuedAt = Self.seconds(claims["iat"]) else {
            return .failure(.missingClaim)
        }
        guard now < expiresAt + expectations.leeway else { return .failure(.expired) }
        if let notBefore = claims["nbf"] {
            guard let notBefore = Self.seconds(notBefore) else { return .failure(.missingClaim) }
            guard now + expectations.leeway >= notBefore else { return .failure(.notYetValid) }
        }
        guard now + expectations.leeway >= issuedAt else { return .failure(.notYetValid) }
        guard let subject = claims["sub"] as? String, let tokenID = claims["jti"] as? String else {
            return .failure(.missingClaim)
        }
        return .success(
            VerifiedAccessToken(
                subject: subject,
                audiences: audiences,
                issuer: expectations.issuer,
                issuedAt: issuedAt,
                expiresAt: expiresAt,
                tokenID: tokenID,
                sessionHandle: claims["sid"] as? String,
                clientID: claims["client_id"] as? String,
                scope: claims["scope"] as? String,
                keyID: keyID,
                claimsJSON: Data(payloadBytes)
            )
        )
    }

    private static func object(_ bytes: [UInt8]) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    /// A NumericDate in whole seconds; fractions are truncated, non-numbers and booleans refused.
    private static func seconds(_ value: Any?) -> Int64? {
        // JSON true/false come back as NSNumber too; their Objective-C type is "c" (char).
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        let double = number.doubleValue
        guard double.isFinite, abs(double) < 1e15 else { return nil }
        return Int64(double.rounded(.down))
    }
}

/// A token that passed every check: its claims, typed, plus the whole payload for custom claims.
public struct VerifiedAccessToken: Sendable, Hashable {
    /// `sub`: the user id (session tokens) or the client id (client-credentials tokens).
    public let subject: String
    /// `aud`, as one or more strings.
    public let audiences: [String]
    /// `iss`.
    public let issuer: String
    /// `iat`, Unix seconds.
    public let issuedAt: Int64
    /// `exp`, Unix seconds.
    public let expiresAt: Int64
    /// `jti`.
    public let tokenID: String
    /// `sid`: the handle of the session the token was exchanged from (session tokens only).
    public let sessionHandle: String?
    /// `client_id`: the API key that asked for the token.
    public let clientID: String?
    /// `scope`, space-separated (client-credentials tokens only).
    public let scope: String?
    /// The `kid` that signed it.
    public let keyID: String
    /// The payload, exact JSON: decode the claims your service configured (`--token-claims`) from it.
    public let claimsJSON: Data

    /// A top-level string claim, e.g. `token.stringClaim("email")`.
    public func stringClaim(_ name: String) -> String? {
        (try? JSONSerialization.jsonObject(with: self.claimsJSON) as? [String: Any])?[name] as? String
    }
}
