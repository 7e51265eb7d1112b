import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SessionTokens

/// The thin client a microservice links to turn a cookie into a session in one call.
///
/// ```swift
/// try await SessionClient.withSessionClient(configuration: .init(baseURL: "http://sessiond:8080", apiKey: key)) { client in
///     if let session = try await client.resolve(cookieHeader: request.headers["Cookie"]) { … }
/// }
/// ```
/// `nil` means "no valid session"; a thrown ``SessionClientError`` means "cannot tell" (fail closed).
public final class SessionClient: Sendable {
    /// The configuration in use.
    public let configuration: SessionClientConfiguration
    private let http: HTTPClient
    private let cache: NearCache?
    /// The `Authorization` value of every request: the API key, or a client-credentials token.
    private let credentials: CredentialProvider
    /// The resolve request (URL) without its token and credential, built once per client.
    private let resolveRequest: HTTPClientRequest
    /// The resolve's own lean connections (plain `http://` sessiond); `nil`: resolve via AsyncHTTPClient.
    private let resolveTransport: ResolveTransport?

    /// A client with its own keep-alive connection pool. Call ``shutdown()`` when done.
    public init(configuration: SessionClientConfiguration) {
        self.configuration = configuration
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(connect: .nanoseconds(Self.nanoseconds(configuration.timeouts.connect)))
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(55),
            concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maximumConnections
        )
        httpConfiguration.decompression = .disabled
        httpConfiguration.tracing.tracer = nil  // no per-request span bookkeeping on the hot path
        httpConfiguration.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        self.cache = configuration.nearCache.map { NearCache(capacity: $0.capacity, timeToLive: $0.timeToLive) }
        self.credentials = CredentialProvider(
            credentials: configuration.credentials,
            baseURL: configuration.baseURL,
            http: self.http,
            timeout: .nanoseconds(Self.nanoseconds(configuration.timeouts.request))
        )
        self.resolveRequest = HTTPClientRequest(url: configuration.baseURL + "/v1/session")
        // An API key that could break the header block is never sent (it could not be valid anyway).
        var usable = true
        if case .apiKey(let key) = configuration.credentials { usable = key.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
        self.resolveTransport = !usable ? nil : ResolveTransport(
            baseURL: configuration.baseURL,
            maximumConnections: configuration.maximumConnections,
            maximumWaiters: configuration.maximumWaiters,
            connectTimeout: .nanoseconds(Self.nanoseconds(configuration.timeouts.connect)),
            requestTimeout: .nanoseconds(Self.nanoseconds(configuration.timeouts.request))
        )
    }

    /// Runs `body` with a client and shuts it down afterwards.
    public static func withSessionClient<Result: Sendable>(
        configuration: SessionClientConfiguration,
        _ body: (SessionClient) async throws -> Result
    ) async throws -> Result {
        let client = SessionClient(configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Closes the connection pool.
    public func shutdown() async throws {
        await self.resolveTransport?.shutdown()
        try await self.http.shutdown()
    }

    /// The `Authorization` value the next request carries (tests: token renewal).
    func currentAuthorization() async throws -> String {
        try await self.credentials.authorization()
    }

    /// Sessions held by the near-cache (0 without one).
    var cachedSessionCount: Int { self.cache?.count ?? 0 }

    /// Callers waiting for a resolve connection.
    var resolveWaiters: Int { self.resolveTransport?.waiting ?? 0 }

    // MARK: Resolve (the hot path)

    /// The session of the configured cookie in a `Cookie` header; `nil` if there is no cookie or no valid session.
    public func resolve(cookieHeader: String?) async throws -> Session? {
        guard let cookieHeader, let token = Self.cookieValue(named: self.configuration.cookieName, in: cookieHeader) else { return nil }
        return try await self.resolve(token: token)
    }

    /// The session of `token`; `nil` if there is no valid session.
    ///
    /// Only sessiond's own answers count: a session whose handle is not the token's (a confused proxy
    /// or connection answering another request) throws and its connection is dropped, and a 404
    /// without sessiond's `session_not_found` code (a wrong base URL, a proxy's page) throws too.
    /// Either way the near-cache never sees it.
    public func resolve(token: String) async throws -> Session? {
        if let cache, let hit = cache.get(token) { return hit }
        // Tokens are URL-safe base64: anything else (a control character, a line break) cannot be a
        // session and must never reach a header.
        guard !token.isEmpty, token.utf8.count <= 512, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        let ticket = self.cache?.ticket()
        let handle = Self.handle(ofToken: token)
        let session: Session?
        if let transport = self.resolveTransport {
            session = try await self.withCredentials { authorization in
                try await transport.resolve(token: token, authorization: authorization) { response in
                    if response.status == 401, self.credentials.refreshes { throw StaleCredential() }
                    return try Self.resolved(status: response.status, body: Data(response.body.readableBytesView), handle: handle)
                }
            }
        } else {
            var request = self.resolveRequest
            request.headers.add(name: "X-Session-Token", value: token)
            let (status, body) = try await self.execute(request)
            session = try Self.resolved(status: status, body: body, handle: handle)
        }
        if let session, let ticket { self.cache?.put(token, session, ticket: ticket) }
        return session
    }

    /// A resolve's answer: the session, nil for sessiond's own "no session", or the error.
    static func resolved(status: Int, body: Data, handle: String) throws -> Session? {
        switch status {
        case 200:
            let session = try Self.decodeSession(body)
            guard session.handle == handle else {
                throw SessionClientError(.invalidResponse, status: status, message: "sessiond answered with another session than the token's")
            }
            return session
        case 404:
            let error = Self.error(status: status, body: body)
            guard error.serverCode == "session_not_found" else {
                throw SessionClientError(
                    .invalidResponse, status: status, serverCode: error.serverCode,
                    message: "a 404 that is not sessiond's session_not_found (is the base URL right?)"
                )
            }
            return nil
        default:
            throw Self.error(status: status, body: body)
        }
    }

    /// The handle sessiond derives from a token: its 4-character slot tag and the first 32 URL-safe
    /// base64 characters (24 bytes) of SHA-256 of the whole token.
    static func handle(ofToken token: String) -> String {
        String(token.prefix(4)) + Base64URL.encode(SHA256.hash(data: Array(token.utf8)).prefix(24))
    }

    // MARK: Write operations

    /// Creates a session for `userID` with `data` (any Encodable object).
    public func create(
        userID: String,
        data: some Encodable = [String: String](),
        idleTimeout: Duration? = nil,
        absoluteTimeout: Duration? = nil,
        ip: String? = nil,
        userAgent: String? = nil
    ) async throws -> IssuedSession {
        let body = CreateBody(
            user_id: userID,
            data: data,
            idle_timeout: idleTimeout.map { $0.components.seconds },
            absolute_timeout: absoluteTimeout.map { $0.components.seconds },
            metadata: ip == nil && userAgent == nil ? nil : CreateMetadata(ip: ip, user_agent: userAgent)
        )
        var request = self.request("/v1/sessions", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let (status, responseBody) = try await self.execute(request)
        guard status == 201 else { throw Self.error(status: status, body: responseBody) }
        return try Self.decodeIssued(responseBody)
    }

    /// Applies a JSON merge patch to the session's `data`; `nil` when there is no valid session.
    /// With `expectedVersion`, throws ``SessionClientError/Code/versionMismatch`` if the session changed.
    public func update(token: String, mergePatch: some Encodable, expectedVersion: Int? = nil) async throws -> Session? {
        var request = self.request("/v1/session", method: .PATCH)
        request.headers.add(name: "X-Session-Token", value: token)
        request.headers.add(name: "Content-Type", value: "application/merge-patch+json")
        if let expectedVersion { request.headers.add(name: "If-Match", value: "\"\(expectedVersion)\"") }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(mergePatch)))
        self.cache?.remove(token)
        let (status, body) = try await self.execute(request)
        self.cache?.remove(token)
        switch status {
        case 200: return try Self.decodeSession(body)
        case 404: return nil
        default: throw Self.error(status: status, body: body)
        }
    }

    /// Moves the session to a new token (the old one dies at once); `nil` when there is no valid session.
    public func rotate(token: String) async throws -> IssuedSession? {
        var request = self.request("/v1/session/rotate", method: .POST)
        request.headers.add(name: "X-Session-Token", value: token)
        self.cache?.remove(token)
        let (status, body) = try await self.execute(request)
        self.cache?.remove(token)
        switch status {
        case 200: return try Self.decodeIssued(body)
        case 404: return nil
        default: throw Self.error(status: status, body: body)
        }
    }

    /// Destroys the session (logout). Idempotent. Returns the `Set-Cookie` value that deletes the
    /// browser's cookie (send it with your logout answer). Throws when sessiond could not confirm the
    /// logout: then the session may still be valid, so do not tell the user they are logged out.
    @discardableResult
    public func destroy(token: String) async throws -> String {
        var request = self.request("/v1/session", method: .DELETE)
        request.headers.add(name: "X-Session-Token", value: token)
        self.cache?.remove(token)
        let (status, body) = try await self.execute(request)
        // Again after the answer: a resolve that was in flight meanwhile must not cache the session.
        self.cache?.remove(token)
        switch status {
        case 200:
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let clear = object["set_cookie"] as? String else {
                throw SessionClientError(.invalidResponse, status: status, message: "malformed logout reply")
            }
            return clear
        case 204:
            // A sessiond from before v1.1 answers 204 without a body.
            return "\(self.configuration.cookieName)=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"
        default:
            throw Self.error(status: status, body: body)
        }
    }

    // MARK: Admin

    /// The user's live sessions, newest first.
    public func sessions(ofUser userID: String) async throws -> [Session] {
        let (status, body) = try await self.execute(self.request("/v1/users/\(Self.percentEncoded(userID))/sessions", method: .GET))
        guard status == 200 else { throw Self.error(status: status, body: body) }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let list = object["sessions"] as? [Any] else {
            throw SessionClientError(.invalidResponse, status: status, message: "malformed session list")
        }
        return try list.map { try Session(json: JSONSerialization.data(withJSONObject: $0)) }
    }

    /// Destroys all of the user's sessions except `except` (a handle); how many were destroyed.
    public func purge(user userID: String, except: String? = nil) async throws -> Int {
        var path = "/v1/users/\(Self.percentEncoded(userID))/sessions"
        if let except { path += "?except=\(Self.percentEncoded(except))" }
        let (status, body) = try await self.execute(self.request(path, method: .DELETE))
        guard status == 200 else { throw Self.error(status: status, body: body) }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let count = object["destroyed"] as? Int else {
            throw SessionClientError(.invalidResponse, status: status, message: "malformed purge reply")
        }
        return count
    }

    /// Destroys one session by handle; whether it existed.
    public func destroy(handle: String) async throws -> Bool {
        let (status, body) = try await self.execute(self.request("/v1/sessions/\(Self.percentEncoded(handle))", method: .DELETE))
        switch status {
        case 204: return true
        case 404: return false
        default: throw Self.error(status: status, body: body)
        }
    }

    /// Whether sessiond is ready (its store answers).
    public func isReady() async throws -> Bool {
        let (status, _) = try await self.execute(self.request("/readyz", method: .GET))
        return status == 200
    }

    // MARK: Plumbing

    func request(_ path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: self.configuration.baseURL + path)
        request.method = method
        return request
    }

    /// `request` with the caller's credential; with client credentials, a 401 fetches a new token
    /// and sends the request once more.
    func execute(_ request: HTTPClientRequest) async throws -> (Int, Data) {
        let response = try await self.withCredentials { authorization in
            var request = request
            request.headers.replaceOrAdd(name: "Authorization", value: authorization)
            let response = try await self.executeWithHeaders(request)
            if response.status == 401, self.credentials.refreshes { throw StaleCredential() }
            return response
        }
        return (response.status, response.body)
    }

    /// Runs `body` with the current `Authorization` value; when it throws ``StaleCredential`` (a
    /// 401 to a token), forgets that token and runs once more with a new one.
    private func withCredentials<T>(_ body: (String) async throws -> T) async throws -> T {
        let authorization = try await self.credentials.authorization()
        do {
            return try await body(authorization)
        } catch is StaleCredential {
            self.credentials.invalidate(authorization)
            do {
                return try await body(try await self.credentials.authorization())
            } catch is StaleCredential {
                throw SessionClientError(.unauthorized, status: 401, message: "sessiond refused the access token")
            }
        }
    }

    /// An unauthenticated request (the public key set).
    func executeWithHeaders(_ request: HTTPClientRequest) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        do {
            let response = try await self.http.execute(request, timeout: .nanoseconds(Self.nanoseconds(self.configuration.timeouts.request)))
            let body = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), response.headers, Data(body.readableBytesView))
        } catch let error as SessionClientError {
            throw error
        } catch {
            throw SessionClientError(.unavailable, message: "sessiond unreachable: \(type(of: error)) \(error)")
        }
    }

    private static func decodeSession(_ body: Data) throws -> Session {
        do {
            return try Session(json: body)
        } catch let error as SessionClientError {
            throw error
        } catch {
            throw SessionClientError(.invalidResponse, status: 200, message: "malformed session")
        }
    }

    private static func decodeIssued(_ body: Data) throws -> IssuedSession {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let token = object["token"] as? String, let setCookie = object["set_cookie"] as? String,
            let sessionObject = object["session"], let sessionJSON = try? JSONSerialization.data(withJSONObject: sessionObject)
        else {
            throw SessionClientError(.invalidResponse, message: "malformed issued session")
        }
        return IssuedSession(token: token, session: try self.decodeSession(sessionJSON), setCookie: setCookie)
    }

    static func error(status: Int, body: Data) -> SessionClientError {
        let serverCode = ((try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
        let message = "sessiond answered \(status)\(serverCode.map { " \($0)" } ?? "")"
        switch status {
        case 401: return SessionClientError(.unauthorized, status: status, serverCode: serverCode, message: message)
        case 403: return SessionClientError(.forbidden, status: status, serverCode: serverCode, message: message)
        case 404: return SessionClientError(.notFound, status: status, serverCode: serverCode, message: message)
        case 409: return SessionClientError(.conflict, status: status, serverCode: serverCode, message: message)
        case 412: return SessionClientError(.versionMismatch, status: status, serverCode: serverCode, message: message)
        case 400, 413, 415: return SessionClientError(.invalidRequest, status: status, serverCode: serverCode, message: message)
        case 500...: return SessionClientError(.unavailable, status: status, serverCode: serverCode, message: message)
        default: return SessionClientError(.invalidResponse, status: status, serverCode: serverCode, message: message)
        }
    }

    /// The value of cookie `name` in a `Cookie` header.
    public static func cookieValue(named name: String, in header: String) -> String? {
        for pair in header.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
            var value = trimmed[trimmed.index(after: equals)...]
            while value.last == " " { value = value.dropLast() }
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// `text` with everything but RFC 3986's unreserved ASCII characters percent-encoded (UTF-8): a
    /// path segment, or a form value (`application/x-www-form-urlencoded`, RFC 6749 §2.3.1).
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// A 401 answered to an access token: fetch a new one and retry once.
private struct StaleCredential: Error {}

private struct CreateMetadata: Encodable {
    let ip: String?
    let user_agent: String?
}

private struct CreateBody<D: Encodable>: Encodable {
    let user_id: String
    let data: D
    let idle_timeout: Int64?
    let absolute_timeout: Int64?
    let metadata: CreateMetadata?
}
