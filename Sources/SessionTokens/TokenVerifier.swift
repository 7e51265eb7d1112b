import Foundation
import Synchronization

/// Where a ``TokenVerifier`` gets the issuer's public keys: `GET /.well-known/jwks.json`.
/// `SessionClient` is one; tests can supply their own.
public protocol KeySetSource: Sendable {
    /// The current key set and how long it may be cached (`Cache-Control: max-age`); throws when the
    /// set cannot be fetched.
    func fetchKeySet() async throws -> FetchedKeySet
}

/// Asks the issuer whether a token is still active (RFC 7662), for routes that need instant revocation.
public protocol TokenIntrospector: Sendable {
    /// Whether the issuer considers `token` active; throws when it cannot tell.
    func isActive(_ token: String) async throws -> Bool
}

/// A key set and its cache lifetime.
public struct FetchedKeySet: Sendable {
    /// The keys.
    public var keySet: KeySet
    /// How long they may be used before asking again.
    public var maxAge: Duration
    /// A fetched set.
    public init(keySet: KeySet, maxAge: Duration) {
        self.keySet = keySet
        self.maxAge = maxAge
    }
}

/// Checks sessiond's access tokens locally, without a call per request.
///
/// - Verifies ES256 and EdDSA signatures against the issuer's JWKS; refuses `none`, HMAC, an `alg`
///   other than the key's, a missing or unknown `kid` (no fallback key), `typ` other than `at+jwt`, a
///   `crit` header, a wrong `iss` or `aud`, `exp`/`nbf` outside the leeway.
/// - Caches the key set for its `max-age`; refetches on an unknown `kid` at most once per
///   ``Configuration/unknownKeyRefetchInterval``; keeps the last good set when a fetch fails.
/// - Caches verified tokens until they expire (a repeat check is a dictionary lookup).
///
/// `nil` means invalid. A thrown ``TokenVerifierError`` means "cannot check" (no key set was ever
/// fetched, or introspection failed): fail closed.
///
/// A locally checked token stays valid until its `exp` (+ leeway) even if its session ended earlier;
/// set ``Configuration/introspect`` on routes that need revocation at once.
public final class TokenVerifier: Sendable {
    /// What tokens must be and how the verifier behaves.
    public struct Configuration: Sendable {
        /// The issuer (`--token-issuer` of sessiond).
        public var issuer: String
        /// The audiences this service accepts (usually its own name).
        public var audiences: Set<String>
        /// Clock skew forgiven on `exp` and `nbf`.
        public var leeway: Duration
        /// Verified tokens kept (a full cache drops expired entries, then everything).
        public var cacheCapacity: Int
        /// An unknown `kid` triggers a refetch at most this often.
        public var unknownKeyRefetchInterval: Duration
        /// Used when the key set response has no `max-age`.
        public var defaultMaxAge: Duration
        /// Ask the issuer about every token (after the local check) instead of trusting its signature
        /// until `exp`. Costs a call per request; nothing is cached.
        public var introspect: Bool

        /// Configuration with defaults: 5 s leeway, 10,000 cached tokens, refetch at most every 30 s.
        public init(
            issuer: String,
            audiences: Set<String>,
            leeway: Duration = .seconds(5),
            cacheCapacity: Int = 10_000,
            unknownKeyRefetchInterval: Duration = .seconds(30),
            defaultMaxAge: Duration = .seconds(300),
            introspect: Bool = false
        ) {
            self.issuer = issuer
            self.audiences = audiences
            self.leeway = leeway
            self.cacheCapacity = cacheCapacity
            self.unknownKeyRefetchInterval = unknownKeyRefetchInterval
            self.defaultMaxAge = defaultMaxAge
            self.introspect = introspect
        }
    }

    private struct KeyState {
        var keySet: KeySet?
        var freshUntil: ContinuousClock.Instant = .now
        var lastUnknownKeyFetch: ContinuousClock.Instant? = nil
        var fetch: Task<KeySet, any Error>? = nil
    }

    /// The configuration in use.
    public let configuration: Configuration
    private let source: any KeySetSource
    private let introspector: (any TokenIntrospector)?
    private let expectations: AccessTokenJWT.Expectations
    private let keys = Mutex(KeyState())
    private let verified = Mutex([String: VerifiedAccessToken]())
    private let clock: @Sendable () -> Int64

    /// A verifier fetching keys from `source`; `introspector` is required when `configuration.introspect` is set.
    public init(
        configuration: Configuration,
        keySetSource source: any KeySetSource,
        introspector: (any TokenIntrospector)? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        precondition(!configuration.introspect || introspector != nil, "introspect needs an introspector")
        self.configuration = configuration
        self.source = source
        self.introspector = introspector
        self.clock = clock
        self.expectations = .init(
            issuer: configuration.issuer,
            audiences: configuration.audiences,
            leeway: configuration.leeway.components.seconds
        )
    }

    /// The verified token, or nil when it is not valid. Throws ``TokenVerifierError`` when it cannot check.
    public func verify(_ token: String) async throws -> VerifiedAccessToken? {
        let now = self.clock()
        if !self.configuration.introspect, let hit = self.verified.withLock({ $0[token] }) {
            if now < hit.expiresAt + self.expectations.leeway { return hit }
            _ = self.verified.withLock { $0.removeValue(forKey: token) }
            return nil
        }
        var keySet = try await self.currentKeySet()
        var result = AccessTokenJWT.validate(token, keys: keySet, expectations: self.expectations, now: now)
        if case .failure(.unknownKeyID) = result, let refreshed = await self.refetchForUnknownKey() {
            keySet = refreshed
            result = AccessTokenJWT.validate(token, keys: keySet, expectations: self.expectations, now: now)
        }
        guard case .success(let claims) = result else { return nil }
        if let introspector, self.configuration.introspect {
            do {
                return try await introspector.isActive(token) ? claims : nil
            } catch {
                throw TokenVerifierError.introspectionFailed
            }
        }
        self.verified.withLock { cache in
            if cache.count >= self.configuration.cacheCapacity {
                cache = cache.filter { now < $0.value.expiresAt }
                if cache.count >= self.configuration.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = claims
        }
        return claims
    }

    /// Fetches the key set now (e.g. at start-up, so the first request does not wait).
    public func refresh() async throws {
        _ = try await self.fetch()
    }

    /// The cached set while fresh; otherwise a fetch, or the last good set if that fetch fails.
    private func currentKeySet() async throws -> KeySet {
        let (cached, fresh) = self.keys.withLock { state in (state.keySet, state.freshUntil > .now) }
        if let cached, fresh { return cached }
        do {
            return try await self.fetch()
        } catch {
            if let cached { return cached }
            throw TokenVerifierError.noKeySet
        }
    }

    /// One refetch for an unknown `kid`, unless one happened within the refetch interval.
    private func refetchForUnknownKey() async -> KeySet? {
        let allowed = self.keys.withLock { state -> Bool in
            if let last = state.lastUnknownKeyFetch, last.duration(to: .now) < self.configuration.unknownKeyRefetchInterval {
                return false
            }
            state.lastUnknownKeyFetch = .now
            return true
        }
        guard allowed else { return nil }
        return try? await self.fetch()
    }

    /// A fetch shared by every caller that needs one at the same time.
    private func fetch() async throws -> KeySet {
        let task = self.keys.withLock { state -> Task<KeySet, any Error> in
            if let running = state.fetch { return running }
            let source = self.source
            let defaultMaxAge = self.configuration.defaultMaxAge
            let task = Task<KeySet, any Error> { [weak self] in
                defer { self?.keys.withLock { $0.fetch = nil } }
                let fetched = try await source.fetchKeySet()
                let maxAge = fetched.maxAge > .zero ? fetched.maxAge : defaultMaxAge
                self?.install(fetched.keySet, freshFor: maxAge)
                return fetched.keySet
            }
            state.fetch = task
            return task
        }
        return try await task.value
    }

    private func install(_ keySet: KeySet, freshFor maxAge: Duration) {
        let removed = self.keys.withLock { state -> Bool in
            let removed = state.keySet.map { !$0.keys.keys.allSatisfy(keySet.keys.keys.contains) } ?? false
            state.keySet = keySet
            state.freshUntil = .now + maxAge
            return removed
        }
        // A key that is no longer published takes its tokens with it.
        if removed { self.verified.withLock { $0.removeAll() } }
    }
}

/// The verifier cannot tell whether a token is valid: fail closed (503), never treat as anonymous.
public enum TokenVerifierError: Error, Sendable, Hashable {
    /// No key set was ever fetched.
    case noKeySet
    /// Introspection was asked for and failed.
    case introspectionFailed
}
