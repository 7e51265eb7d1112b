import Foundation

/// How a ``SessionClient`` reaches sessiond. Every property but the URL and key has a default.
/// Printing it never shows the key or secret.
public struct SessionClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Timeouts.
    public struct Timeouts: Sendable {
        /// Connect timeout.
        public var connect: Duration
        /// Whole-request deadline: for a resolve, it covers waiting for a connection, the request
        /// and its one retry.
        public var request: Duration
        /// Defaults: connect 250 ms, request 1 s.
        public init(connect: Duration = .milliseconds(250), request: Duration = .seconds(1)) {
            self.connect = connect
            self.request = request
        }
    }

    /// The optional in-process near-cache of resolved sessions.
    public struct NearCache: Sendable {
        /// Largest number of sessions kept (least recently used go first).
        public var capacity: Int
        /// How long a resolved session may be served without asking sessiond.
        /// With the cache on, a logout elsewhere takes up to this long to be seen.
        public var timeToLive: Duration
        /// A cache of `capacity` entries living `timeToLive`.
        public init(capacity: Int = 10_000, timeToLive: Duration = .seconds(1)) {
            self.capacity = capacity
            self.timeToLive = timeToLive
        }
    }

    /// sessiond's base URL, e.g. `http://127.0.0.1:8080`.
    public var baseURL: String
    /// The API key sent as `Authorization: Bearer` (empty with client credentials).
    public var apiKey: String
    /// How the client authenticates: the API key, or OAuth client credentials.
    public var credentials: CallerCredentials
    /// The session cookie's name (to pick it out of a `Cookie` header).
    public var cookieName: String
    /// Timeouts.
    public var timeouts: Timeouts
    /// Keep-alive connections per sessiond host.
    public var maximumConnections: Int
    /// Near-cache; `nil` (the default) means every resolve asks sessiond.
    public var nearCache: NearCache?
    /// Callers that may wait for one of the ``maximumConnections`` resolve connections; one more
    /// fails at once with ``SessionClientError/Code/overloaded``.
    public var maximumWaiters: Int

    /// A configuration with defaults.
    public init(
        baseURL: String,
        apiKey: String,
        cookieName: String = "__Host-sid",
        timeouts: Timeouts = .init(),
        maximumConnections: Int = 64,
        nearCache: NearCache? = nil,
        maximumWaiters: Int = 1024
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.credentials = .apiKey(apiKey)
        self.cookieName = cookieName
        self.timeouts = timeouts
        self.maximumConnections = maximumConnections
        self.nearCache = nearCache
        self.maximumWaiters = maximumWaiters
    }

    public var description: String { "SessionClientConfiguration(\(self.baseURL), \(self.credentials))" }
    public var debugDescription: String { self.description }
    public var customMirror: Mirror { Mirror(self, children: ["baseURL": self.baseURL, "credentials": self.credentials], displayStyle: .struct) }

    /// A configuration with OAuth 2.0 client credentials: `clientID` is the API key's name, and
    /// `clientSecret` its secret, which is sent only to `/oauth2/token` (HTTP Basic) for a
    /// short-lived access token that every other request carries. `scope` narrows it (space-separated).
    public init(
        baseURL: String,
        clientID: String,
        clientSecret: String,
        scope: String? = nil,
        cookieName: String = "__Host-sid",
        timeouts: Timeouts = .init(),
        maximumConnections: Int = 64,
        nearCache: NearCache? = nil,
        maximumWaiters: Int = 1024
    ) {
        self.init(
            baseURL: baseURL, apiKey: "", cookieName: cookieName, timeouts: timeouts, maximumConnections: maximumConnections,
            nearCache: nearCache, maximumWaiters: maximumWaiters
        )
        self.credentials = .clientCredentials(clientID: clientID, clientSecret: clientSecret, scope: scope)
    }
}
