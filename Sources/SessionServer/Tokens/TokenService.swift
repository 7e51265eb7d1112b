import Crypto
import NIOConcurrencyHelpers
import SessionCore
import SessionTokens

/// Mints session access tokens (RFC 9068 JWTs), publishes the JWKS and checks tokens for introspection.
/// One instance is shared by every request; the keyring is swapped underneath on `SIGHUP`.
final class TokenService: Sendable {
    let keyring: SigningKeyring
    let settings: SessionServiceConfiguration.Tokens
    let issuer: String
    let audiences: Set<String>
    private let clock: @Sendable () -> Int64
    private let jwksCache = NIOLockedValueBox<(keySet: KeySet, body: [UInt8], eTag: String)?>(nil)

    /// A service over `keyring`; `clock` returns Unix milliseconds.
    init(keyring: SigningKeyring, settings: SessionServiceConfiguration.Tokens, clock: @escaping @Sendable () -> Int64 = { WallClock.milliseconds() }) {
        self.keyring = keyring
        self.settings = settings
        self.issuer = settings.issuer ?? ""
        self.audiences = Set(settings.audiences)
        self.clock = clock
    }

    /// Unix milliseconds now.
    var now: Int64 { self.clock() }

    /// The longest lifetime of any token sessiond signs: a key stays published this long after it stops signing.
    var longestTokenLifetime: Int64 { Int64(max(self.settings.maximumTTL, self.settings.clientTokenTTL)) }

    /// The keys verifiers may use now.
    func publishedKeys(at nowSeconds: Int64) -> KeySet {
        self.keyring.published(
            at: nowSeconds,
            cacheLifetime: Int64(self.settings.jwksMaxAge),
            longestTokenLifetime: self.longestTokenLifetime
        )
    }

    /// The JWKS document and its ETag (recomputed only when the published set changes).
    func jwks() -> (body: [UInt8], eTag: String) {
        let keySet = self.publishedKeys(at: self.now / 1000)
        if let cached = self.jwksCache.withLockedValue({ $0 }), cached.keySet == keySet { return (cached.body, cached.eTag) }
        let body = keySet.jwks
        let digest = SHA256.hash(data: body)
        let eTag = "\"" + Base64URL.encode(Array(digest).prefix(16)) + "\""
        self.jwksCache.withLockedValue { $0 = (keySet, body, eTag) }
        return (body, eTag)
    }

    /// A token for `session`, meant for `audience`, asked for by API key `clientID`. Its lifetime is
    /// `ttl` (or the default), shortened to end no later than the session's idle and absolute
    /// deadlines. Throws `session_not_found` when the session ends within a second.
    func mint(session: StoredSession, audience: String, ttl: Int?, clientID: String) throws -> (token: String, expiresIn: Int) {
        let nowMilliseconds = self.now
        guard let key = self.keyring.signer(at: nowMilliseconds / 1000) else {
            // The file was checked at load; only a clock past every SIGN_UNTIL gets here.
            throw SessionAPIError.signingKeyUnavailable
        }
        let issuedAt = nowMilliseconds / 1000
        let remaining = (session.idleExpiresAt - nowMilliseconds) / 1000
        let lifetime = min(Int64(ttl ?? self.settings.defaultTTL), remaining)
        guard lifetime >= 1 else { throw SessionAPIError.sessionNotFound }
        var claims = Array(#"{"iss":"#.utf8)
        JSONText.appendQuoted(self.issuer, to: &claims)
        claims += #","sub":"#.utf8
        claims += session.userIDJSON
        claims += #","aud":"#.utf8
        JSONText.appendQuoted(audience, to: &claims)
        claims += #","iat":\#(issuedAt),"exp":\#(issuedAt + lifetime),"jti":""#.utf8
        claims += Base64URL.encodeBytes(SecureRandom.bytes(16))
        claims += #"","sid":""#.utf8
        claims += session.handle.value.utf8
        claims += #"","client_id":"#.utf8
        JSONText.appendQuoted(clientID, to: &claims)
        if !self.settings.claims.isEmpty, case .object(let members)? = try? session.data() {
            for name in self.settings.claims {
                guard let value = members.first(where: { $0.key == name })?.value else { continue }
                claims.append(UInt8(ascii: ","))
                JSONText.appendQuoted(name, to: &claims)
                claims.append(UInt8(ascii: ":"))
                value.serialize(into: &claims)
            }
        }
        claims.append(UInt8(ascii: "}"))
        return (AccessTokenJWT.sign(claims: claims, with: key), Int(lifetime))
    }

    /// A client-credentials access token for `key` with `scopes` (RFC 9068): `aud` is the issuer
    /// itself, `sub` = `client_id` = the key's name, and `kv` names the key's version so that
    /// changing or removing the key ends the token.
    func mintClientToken(for key: APIKey, scopes: Scope) throws -> (token: String, expiresIn: Int, scope: String) {
        let nowMilliseconds = self.now
        guard let signingKey = self.keyring.signer(at: nowMilliseconds / 1000) else { throw SessionAPIError.signingKeyUnavailable }
        let issuedAt = nowMilliseconds / 1000
        let lifetime = Int64(self.settings.clientTokenTTL)
        let scope = scopes.names
        var claims = Array(#"{"iss":"#.utf8)
        JSONText.appendQuoted(self.issuer, to: &claims)
        claims += #","sub":"#.utf8
        JSONText.appendQuoted(key.name, to: &claims)
        claims += #","aud":"#.utf8
        JSONText.appendQuoted(self.issuer, to: &claims)
        claims += #","client_id":"#.utf8
        JSONText.appendQuoted(key.name, to: &claims)
        claims += #","scope":"#.utf8
        JSONText.appendQuoted(scope, to: &claims)
        claims += #","iat":\#(issuedAt),"exp":\#(issuedAt + lifetime),"jti":""#.utf8
        claims += Base64URL.encodeBytes(SecureRandom.bytes(16))
        claims += #"","kv":""#.utf8
        claims += key.version.utf8
        claims += #""}"#.utf8
        return (AccessTokenJWT.sign(claims: claims, with: signingKey), Int(lifetime), scope)
    }

    /// The client-credentials token among already verified claims: issued by us for ourselves
    /// (`aud` = issuer), with `scope`, `client_id` = `sub` and a key version, no `sid`. A session token
    /// (whose audiences never include the issuer: the configuration refuses that) is nil.
    func clientToken(_ claims: VerifiedAccessToken) -> VerifiedClientToken? {
        guard claims.audiences == [self.issuer], claims.sessionHandle == nil, let clientID = claims.clientID,
            clientID == claims.subject, let scopeText = claims.scope, let keyVersion = claims.stringClaim("kv")
        else { return nil }
        var scopes: Scope = []
        for name in scopeText.split(separator: " ") {
            guard let scope = Scope.named(name) else { return nil }
            scopes.insert(scope)
        }
        return VerifiedClientToken(
            clientID: clientID, scopes: scopes, tokenID: claims.tokenID, issuedAt: claims.issuedAt,
            expiresAt: claims.expiresAt, keyVersion: keyVersion, scopeText: scopeText
        )
    }

    /// The claims of a token of either kind whose signature, issuer, audience (one of the token
    /// audiences, or the issuer itself for client tokens) and lifetime are valid now: one signature
    /// check, whatever kind it turns out to be. Not yet whether its session is live or it was revoked.
    func validate(_ token: some StringProtocol) -> VerifiedAccessToken? {
        let now = self.now / 1000
        let result = AccessTokenJWT.validate(
            token,
            keys: self.publishedKeys(at: now),
            expectations: .init(issuer: self.issuer, audiences: self.audiences.union([self.issuer]), leeway: 0),
            now: now
        )
        guard case .success(let claims) = result else { return nil }
        return claims
    }

    /// Whether `claims` are a session token's (an audience of `--token-audiences` and a `sid`).
    func isSessionToken(_ claims: VerifiedAccessToken) -> Bool {
        claims.sessionHandle != nil && claims.audiences.contains(where: self.audiences.contains)
    }
}
