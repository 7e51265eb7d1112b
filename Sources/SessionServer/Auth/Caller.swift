import NIOConcurrencyHelpers
import ServiceLifecycle
import SessionCore
import SessionTokens

/// Who is calling: a static API key, or an access token minted for one by the client-credentials
/// grant. The router and the fast path both get theirs from ``CallerAuthenticator``.
public struct Caller: Sendable, Hashable {
    /// How the caller proved it.
    public enum Credential: Sendable, Hashable {
        /// `Authorization: Bearer <API key secret>`.
        case apiKey
        /// `Authorization: Bearer <access token>` (client credentials); `tokenID` is its `jti`.
        case accessToken(tokenID: String, expiresAt: Int64)
    }

    /// The key's name (the token's `client_id`): what logs show.
    public let name: String
    /// What it may do (a token's own scopes, a subset of its key's).
    public let scopes: Scope
    /// How it proved it.
    public let credential: Credential
}

/// Turns an `Authorization` value into a ``Caller``: a static key (SHA-256, constant-time compare),
/// else a client-credentials access token (signature, issuer, audience, expiry and key version,
/// cached until it expires). A token must then pass ``isStillValid(_:)`` (the revocation deny-list,
/// kept in memory on every replica) before its request runs.
final class CallerAuthenticator: Sendable {
    let apiKeys: APIKeys
    let tokens: TokenService?
    let oauthState: any OAuthStateStore
    private let verified = NIOLockedValueBox([String: VerifiedClientToken]())
    static let cacheCapacity = 10_000

    init(apiKeys: APIKeys, tokens: TokenService?, oauthState: any OAuthStateStore) {
        self.apiKeys = apiKeys
        self.tokens = tokens
        self.oauthState = oauthState
    }

    /// The caller of a Bearer `Authorization` value, before the revocation check; nil when unknown.
    func presentedCaller(authorization header: String) -> Caller? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let presented = parts[1].trimmingSpaces
        // A token verified before is found without hashing it as a key first (one lookup).
        var token: String? = nil
        if let tokens, presented.utf8.count > 100 {
            let text = String(presented)
            if let cached = self.verified.withLockedValue({ $0[text] }) { return self.caller(cached, token: text, tokens: tokens) }
            token = text
        }
        if let key = self.apiKeys.authenticate(presented) {
            return Caller(name: key.name, scopes: key.scopes, credential: .apiKey)
        }
        guard let tokens, let token, token.utf8.count <= AccessTokenJWT.maximumLength,
            token.utf8.lazy.filter({ $0 == UInt8(ascii: ".") }).count == 2,
            let claims = self.verify(token, tokens: tokens)
        else { return nil }
        return self.caller(claims, token: token, tokens: tokens)
    }

    /// The client-credentials token among `claims` (whose signature the caller checked) and its
    /// caller, while it has not expired and its key is unchanged; cached like any verified token.
    func clientToken(_ claims: VerifiedAccessToken, token: String, tokens: TokenService) -> (token: VerifiedClientToken, caller: Caller)? {
        guard let client = tokens.clientToken(claims) else { return nil }
        self.remember(client, token: token, now: tokens.now / 1000)
        guard let caller = self.caller(client, token: token, tokens: tokens) else { return nil }
        return (client, caller)
    }

    /// The caller of verified `claims`, while the token has not expired and its key is unchanged
    /// (removing or changing a key ends its tokens at once).
    private func caller(_ claims: VerifiedClientToken, token: String, tokens: TokenService) -> Caller? {
        guard tokens.now / 1000 < claims.expiresAt else {
            _ = self.verified.withLockedValue { $0.removeValue(forKey: token) }
            return nil
        }
        guard let key = self.apiKeys.key(named: claims.clientID), key.version == claims.keyVersion else { return nil }
        return Caller(
            name: claims.clientID, scopes: claims.scopes.intersection(key.scopes),
            credential: .accessToken(tokenID: claims.tokenID, expiresAt: claims.expiresAt)
        )
    }

    /// Checks a token not seen before and caches it.
    private func verify(_ token: String, tokens: TokenService) -> VerifiedClientToken? {
        guard let claims = tokens.validate(token).flatMap(tokens.clientToken) else { return nil }
        self.remember(claims, token: token, now: tokens.now / 1000)
        return claims
    }

    private func remember(_ claims: VerifiedClientToken, token: String, now: Int64) {
        self.verified.withLockedValue { cache in
            if cache.count >= Self.cacheCapacity {
                cache = cache.filter { $0.value.expiresAt > now }
                if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = claims
        }
    }

    /// Whether `caller` may go on: always for a static key; for a token, unless it was revoked.
    /// Throws when the deny-list cannot be read (503: never let a possibly revoked token through).
    func isStillValid(_ caller: Caller) async throws -> Bool {
        guard case .accessToken(let tokenID, _) = caller.credential else { return true }
        return try await !self.oauthState.isRevoked(tokenID: tokenID)
    }

    /// Both steps, for the router.
    func authenticate(authorization header: String) async throws -> Caller? {
        guard let caller = self.presentedCaller(authorization: header) else { return nil }
        return try await self.isStillValid(caller) ? caller : nil
    }
}

/// A client-credentials access token whose signature and claims were checked.
struct VerifiedClientToken: Sendable {
    let clientID: String
    let scopes: Scope
    let tokenID: String
    let issuedAt: Int64
    let expiresAt: Int64
    let keyVersion: String
    let scopeText: String
}

/// Runs the Redis OAuth store's revocation cache (subscription, loading, heartbeats) for as long as
/// sessiond runs.
public struct RevocationCacheService: Service {
    let store: RedisOAuthStateStore

    /// The service for `store`.
    public init(store: RedisOAuthStateStore) {
        self.store = store
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.store.maintainRevocationCache()
        }
    }
}
