import SessionCore

/// Everything sessiond can be configured with. Defaults match the documented ones; the executable
/// fills this from flags and environment variables in one place and calls ``validate()``.
public struct SessionServiceConfiguration: Sendable {
    /// Which store holds sessions.
    public enum Store: String, Sendable, CaseIterable {
        /// Redis (production).
        case redis
        /// This process's memory (trying it out; one process only; lost on restart).
        case memory
    }

    /// Session lifetimes, in seconds.
    public struct Lifetimes: Sendable {
        /// Idle timeout when a create names none.
        public var defaultIdle: Int = 1800
        /// Absolute timeout when a create names none.
        public var defaultAbsolute: Int = 86_400
        /// Largest idle timeout a create may ask for.
        public var maximumIdle: Int = 86_400
        /// Largest absolute timeout a create may ask for.
        public var maximumAbsolute: Int = 30 * 86_400
        /// A resolve slides the idle deadline at most this often (seconds); 0 slides on every resolve.
        public var touchInterval: Int = 60
        /// Lifetimes with defaults.
        public init() {}
    }

    /// Sizes and counts.
    public struct Limits: Sendable {
        /// Largest request body (bytes).
        public var maximumBodyBytes: Int = 64 * 1024
        /// Largest `data` object, serialized (bytes).
        public var maximumDataBytes: Int = 16 * 1024
        /// At most this many sessions per user; one more evicts the oldest.
        public var maximumSessionsPerUser: Int = 100
        /// A request (head and body) must arrive within this many seconds of its first byte.
        public var requestReadTimeout: Int = 10
        /// Keep-alive connections with no traffic close after this many seconds.
        public var idleConnectionTimeout: Int = 60
        /// Limits with defaults.
        public init() {}
    }

    /// The `Set-Cookie` value sessiond prepares for the login service.
    public struct Cookie: Sendable {
        /// `SameSite` attribute values.
        public enum SameSite: String, Sendable, CaseIterable {
            case strict = "Strict", lax = "Lax", none = "None"
        }

        /// Cookie name; `__Host-` names may not carry a `Domain`.
        public var name: String = "__Host-sid"
        /// `SameSite` attribute.
        public var sameSite: SameSite = .lax
        /// When true the cookie gets `Max-Age` = the absolute timeout; otherwise it is a browser-session cookie.
        public var isPersistent: Bool = false
        /// `Domain` attribute for single sign-on across subdomains (nil: host-only).
        public var domain: String? = nil
        /// Cookie settings with defaults.
        public init() {}
    }

    /// Access tokens (session → JWT exchange, forward-auth, JWKS, introspection).
    public struct Tokens: Sendable {
        /// The signing-keys file; nil turns the token routes off (404 `tokens_not_configured`).
        public var signingKeysFile: String? = nil
        /// `iss` of every token; verifiers compare it exactly.
        public var issuer: String? = nil
        /// Audiences an exchange may ask for.
        public var audiences: [String] = []
        /// Lifetime when an exchange names none (seconds).
        public var defaultTTL: Int = 60
        /// Longest lifetime an exchange may ask for (seconds).
        public var maximumTTL: Int = 300
        /// Top-level members of the session's `data` copied into the token (none by default).
        public var claims: [String] = []
        /// `max-age` of the JWKS: how long verifiers may cache the key set (seconds).
        public var jwksMaxAge: Int = 300
        /// Lifetime of client-credentials access tokens (seconds).
        public var clientTokenTTL: Int = 600
        /// Claims sessiond sets itself, which `--token-claims` may not name.
        public static let reservedClaims: Set<String> = [
            "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "client_id", "scope", "cnf", "act", "may_act",
        ]
        /// Token settings with defaults.
        public init() {}
    }

    /// Address to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on (0 picks a free one).
    public var port: Int = 8080
    /// Which store holds sessions.
    public var store: Store = .redis
    /// `redis://` or `rediss://` URL.
    public var redisURL: String = "redis://127.0.0.1:6379"
    /// Redis command timeout in milliseconds (a slower Redis answers 503 after this).
    public var redisCommandTimeoutMilliseconds: Int = 250
    /// Redis connect timeout in milliseconds.
    public var redisConnectTimeoutMilliseconds: Int = 500
    /// How long a Redis command may keep waiting out a failover before the request answers 503 (ms).
    public var redisFailoverBudgetMilliseconds: Int = 5000
    /// Durable logout: replicas to wait for after destroy, purge and rotate.
    public var revocation = RevocationPolicy()
    /// Pipelined Redis connections; 0 means one per event loop, so that a request's Redis round trip
    /// stays on its connection's thread (docs/architecture.md).
    public var redisPoolSize: Int = 0
    /// Whether `GET /v1/session` and `POST /v1/sessions` are answered by the fast path (default) or by
    /// the router. Both answer alike; the switch exists for side-by-side benchmarks and as an escape hatch.
    public var fastPath: Bool = true
    /// Prefix of every Redis key.
    public var keyPrefix: String = "sessiond:"
    /// Path of the API keys file.
    public var apiKeysFile: String? = nil
    /// Lifetimes.
    public var lifetimes = Lifetimes()
    /// Limits.
    public var limits = Limits()
    /// Cookie.
    public var cookie = Cookie()
    /// Access tokens.
    public var tokens = Tokens()
    /// Whose `X-Forwarded-For` names the client for the token endpoint's per-address brute-force
    /// limit (nobody's by default: the TCP peer is the client).
    public var clientAddresses = ClientAddressPolicy()

    /// A configuration with defaults for everything.
    public init() {}

    /// Refuses inconsistent settings with a one-line reason.
    public func validate() throws(ConfigurationError) {
        func require(_ condition: Bool, _ reason: String) throws(ConfigurationError) {
            if !condition { throw ConfigurationError(reason) }
        }
        try require((0...65535).contains(self.port), "port must be 0–65535")
        try require(!self.keyPrefix.contains("{") && !self.keyPrefix.contains("}"), "key prefix may not contain '{' or '}' (they are the cluster hash tag)")
        try require(self.keyPrefix.utf8.count <= 64, "key prefix is longer than 64 bytes")
        let l = self.lifetimes
        try require(l.defaultIdle > 0 && l.defaultAbsolute > 0, "default idle and absolute timeouts must be positive")
        try require(l.defaultIdle <= l.maximumIdle, "default idle timeout exceeds the maximum idle timeout")
        try require(l.defaultAbsolute <= l.maximumAbsolute, "default absolute timeout exceeds the maximum absolute timeout")
        try require(l.maximumAbsolute <= 10 * 365 * 86_400, "maximum absolute timeout exceeds ten years")
        try require(l.touchInterval >= 0, "touch interval must not be negative")
        let limits = self.limits
        try require(limits.maximumBodyBytes >= 1024, "maximum body size must be at least 1024 bytes")
        try require(limits.maximumDataBytes >= 2 && limits.maximumDataBytes <= limits.maximumBodyBytes, "maximum data size must be between 2 bytes and the maximum body size")
        try require(limits.maximumSessionsPerUser >= 1, "maximum sessions per user must be at least 1")
        try require(limits.requestReadTimeout >= 1 && limits.idleConnectionTimeout >= 1, "connection timeouts must be at least 1 second")
        try require(self.redisCommandTimeoutMilliseconds >= 1 && self.redisConnectTimeoutMilliseconds >= 1, "Redis timeouts must be positive")
        try require((0...64).contains(self.redisPoolSize), "Redis pool size must be 0 (one per event loop) to 64")
        try require(self.redisFailoverBudgetMilliseconds >= 0, "the Redis failover budget must not be negative")
        try require((self.revocation.replicas ?? 0) >= 0 && (self.revocation.replicas ?? 0) <= 16, "revocation replicas must be auto or 0–16")
        try require(self.revocation.timeout >= 1 && self.revocation.timeout <= 10_000, "revocation timeout must be 1–10000 ms")
        let tokens = self.tokens
        if tokens.signingKeysFile != nil {
            try require(!(tokens.issuer ?? "").isEmpty, "--signing-keys-file needs --token-issuer (the iss verifiers expect, e.g. https://sessiond.internal)")
            try require(!tokens.audiences.isEmpty, "--signing-keys-file needs --token-audiences (the services tokens may be issued for)")
        }
        try require(tokens.audiences.allSatisfy { !$0.isEmpty && $0.utf8.count <= 256 && !$0.contains(",") }, "token audiences must be 1–256 characters")
        try require(tokens.maximumTTL >= 1 && tokens.maximumTTL <= 86_400, "token max TTL must be 1–86400 seconds")
        try require(tokens.defaultTTL >= 1 && tokens.defaultTTL <= tokens.maximumTTL, "token TTL must be between 1 and the token max TTL")
        try require(tokens.jwksMaxAge >= 1 && tokens.jwksMaxAge <= 86_400, "JWKS max-age must be 1–86400 seconds")
        try require(tokens.clientTokenTTL >= 1 && tokens.clientTokenTTL <= 86_400, "client token TTL must be 1–86400 seconds")
        if let issuer = tokens.issuer {
            // Client tokens are meant for sessiond itself (aud = issuer); a session token must never pass as one.
            try require(!tokens.audiences.contains(issuer), "the token issuer may not be one of the token audiences")
        }
        for claim in tokens.claims {
            try require(!claim.isEmpty && claim.utf8.count <= 64, "token claims must be 1–64 characters")
            try require(!Tokens.reservedClaims.contains(claim), "token claim '\(claim)' is set by sessiond itself")
        }
        try require(
            self.clientAddresses.trustedProxies.allSatisfy { $0.prefixLength > 0 },
            "a trusted proxy network of prefix length 0 would let every client name its own address"
        )
        let name = self.cookie.name
        let tokenCharacters = name.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
        }
        try require(!name.isEmpty && tokenCharacters, "cookie name is not a valid cookie token")
        if let domain = self.cookie.domain {
            try require(!name.hasPrefix("__Host-"), "a cookie with a Domain may not use the __Host- prefix (rename it, e.g. __Secure-sid)")
            try require(!domain.isEmpty && domain.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }, "cookie domain is invalid")
        }
    }
}

/// Why a configuration was refused.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// One line for the operator.
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { self.reason }
}
