import Crypto
import Foundation
import SessionTokens

/// The ways a token can be forged or wrong that every verifier must refuse (sessiond's
/// introspection and ``TokenVerifier`` are tested against the same list).
public enum Forgery: String, CaseIterable, Sendable {
    case algNone, hs256KeyedWithThePublicKey, swappedAlg, unknownKeyID, missingKeyID, typJWT
    case wrongAudience, wrongIssuer, expiredPastLeeway, unpublishedKey, critHeader
}

/// Builds valid and forged access tokens around a published key.
public struct TokenForge: Sendable {
    /// The published key (put it in the verifier's key set or sessiond's keys file).
    public let key: PrivateSigningKey
    /// A key of the same id that is not published.
    public let impostor: PrivateSigningKey

    public init(keyID: String = "forge-k1") {
        self.key = PrivateSigningKey.generate(keyID: keyID, algorithm: .es256)
        self.impostor = PrivateSigningKey.generate(keyID: keyID, algorithm: .es256)
    }

    /// Claims of a valid token.
    public static func claims(issuer: String, audience: String, now: Int64, lifetime: Int64 = 60, subject: String = "alice", sessionHandle: String? = nil) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": issuer, "sub": subject, "aud": audience, "iat": now, "exp": now + lifetime,
            "jti": Base64URL.encode(SecureRandom.bytes(12)), "client_id": "tests",
        ]
        if let sessionHandle { claims["sid"] = sessionHandle }
        return claims
    }

    /// A compact JWS of `header` and `claims` with `signature(input)`.
    public static func compact(header: [String: Any], claims: [String: Any], signature: ([UInt8]) -> [UInt8]) -> String {
        let headerJSON = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let claimsJSON = try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let input = Base64URL.encode(headerJSON) + "." + Base64URL.encode(claimsJSON)
        return input + "." + Base64URL.encode(signature(Array(input.utf8)))
    }

    /// A valid token with `claims`, signed by the published key.
    public func valid(_ claims: [String: Any]) -> String {
        Self.compact(header: ["alg": "ES256", "typ": "at+jwt", "kid": self.key.keyID], claims: claims, signature: self.key.sign)
    }

    /// The token with `claims` spoiled by `forgery`.
    public func forged(_ forgery: Forgery, claims valid: [String: Any], leeway: Int64 = 5) -> String {
        var header: [String: Any] = ["alg": "ES256", "typ": "at+jwt", "kid": self.key.keyID]
        var claims = valid
        var signer: ([UInt8]) -> [UInt8] = self.key.sign
        switch forgery {
        case .algNone:
            header["alg"] = "none"
            signer = { _ in [] }
        case .hs256KeyedWithThePublicKey:
            // The classic confusion: HMAC keyed with the public key's bytes, which anyone has.
            header["alg"] = "HS256"
            let secret = SymmetricKey(data: self.key.publicKey.jwk)
            signer = { Array(HMAC<SHA256>.authenticationCode(for: $0, using: secret)) }
        case .swappedAlg:
            header["alg"] = "EdDSA"
            let other = PrivateSigningKey.generate(keyID: self.key.keyID, algorithm: .edDSA)
            signer = other.sign
        case .unknownKeyID:
            header["kid"] = "never-published"
        case .missingKeyID:
            header["kid"] = nil
        case .typJWT:
            header["typ"] = "JWT"
        case .wrongAudience:
            claims["aud"] = "someone-else"
        case .wrongIssuer:
            claims["iss"] = "https://evil.example"
        case .expiredPastLeeway:
            let now = (claims["iat"] as? Int64) ?? 0
            claims["iat"] = now - 600
            claims["exp"] = now - leeway - 2
        case .unpublishedKey:
            signer = self.impostor.sign
        case .critHeader:
            header["crit"] = ["exp"]
        }
        return Self.compact(header: header, claims: claims, signature: signer)
    }
}
