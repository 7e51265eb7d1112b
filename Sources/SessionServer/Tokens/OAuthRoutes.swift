import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import SessionCore
import SessionTokens

/// OAuth 2.0 for the services that call sessiond: the client-credentials grant (RFC 6749 §4.4) with
/// HTTP Basic client authentication (§2.3.1), revocation (RFC 7009) and server metadata (RFC 8414).
/// Errors on `/oauth2/*` take RFC 6749's shape, `{"error","error_description"}`.
extension TokenRoutes {
    /// After this many failed authentications within ``failureWindow`` a client id, or a source
    /// address, gets 429 whatever it sends until the window passes.
    static let failureLimit = 10
    /// The brute-force window (ms).
    static let failureWindow: Int64 = 60_000
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    // MARK: Token endpoint

    @Sendable func token(_ request: Request, context: SessionRequestContext) async throws -> Response {
        let tokens = try self.service()
        let form = try await Self.formBody(request)
        guard form["client_id"] == nil, form["client_secret"] == nil else {
            throw SessionAPIError.invalidRequest("client credentials go in the Authorization header (HTTP Basic), never in the body")
        }
        let key = try await self.authenticateClient(request, context: context)
        guard let grant = form["grant_type"], !grant.isEmpty else { throw SessionAPIError.invalidRequest("grant_type is required") }
        // Only client credentials: the password grant is forbidden by the Security BCP (RFC 9700),
        // and sessiond has no users' consent to delegate.
        guard grant == "client_credentials" else { throw SessionAPIError.unsupportedGrantType }
        var scopes = key.scopes
        if let requested = form["scope"], !requested.isEmpty {
            scopes = []
            for name in requested.split(separator: " ") {
                guard let scope = Scope.named(name), key.scopes.contains(scope) else { throw SessionAPIError.invalidScope }
                scopes.insert(scope)
            }
        }
        let minted = try tokens.mintClientToken(for: key, scopes: scopes)
        self.metrics.clientTokens.increment()
        var body = Array(#"{"access_token":""#.utf8)
        body += minted.token.utf8
        body += #"","token_type":"Bearer","expires_in":\#(minted.expiresIn),"scope":"#.utf8
        JSONText.appendQuoted(minted.scope, to: &body)
        body.append(UInt8(ascii: "}"))
        return JSONResponses.response(.ok, body, headers: [HTTPField.Name("Pragma")!: "no-cache"])
    }

    // MARK: Revocation

    @Sendable func revoke(_ request: Request, context: SessionRequestContext) async throws -> Response {
        let tokens = try self.service()
        let caller = try await self.oauthCaller(request, context: context)
        let form = try await Self.formBody(request)
        guard let token = form["token"], !token.isEmpty else { throw SessionAPIError.invalidRequest("the token parameter is required") }
        // Unknown and invalid tokens: 200, nothing to do (RFC 7009 §2.2).
        if let claims = tokens.validate(token) {
            guard let client = tokens.clientToken(claims) else {
                // A session access token ends with its session.
                throw SessionAPIError.unsupportedTokenType
            }
            guard client.clientID == caller.name || caller.scopes.contains(.admin) else { throw SessionAPIError.unauthorizedClient }
            let remaining = client.expiresAt * 1000 - tokens.now
            if remaining > 0 {
                // 503 when the deny-list entry cannot be written: the caller must not think it worked.
                try await self.authenticator.oauthState.revoke(tokenID: client.tokenID, ttl: remaining)
                self.metrics.revoked.increment()
                context.logger.notice("access token revoked", metadata: ["token.client": "\(client.clientID)", "token.jti": "\(client.tokenID)"])
            }
        }
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    // MARK: Metadata (RFC 8414)

    @Sendable func metadata(_ request: Request, context: SessionRequestContext) async throws -> Response {
        let tokens = try self.service()
        let base = tokens.issuer.hasSuffix("/") ? String(tokens.issuer.dropLast()) : tokens.issuer
        var body = Array(#"{"issuer":"#.utf8)
        JSONText.appendQuoted(tokens.issuer, to: &body)
        for (name, path) in [
            ("token_endpoint", "/oauth2/token"), ("jwks_uri", "/.well-known/jwks.json"),
            ("introspection_endpoint", "/oauth2/introspect"), ("revocation_endpoint", "/oauth2/revoke"),
        ] {
            body += ",\"\(name)\":".utf8
            JSONText.appendQuoted(base + path, to: &body)
        }
        body += #","grant_types_supported":["client_credentials"],"token_endpoint_auth_methods_supported":["client_secret_basic"]"#.utf8
        body += #","introspection_endpoint_auth_methods_supported":["client_secret_basic"],"revocation_endpoint_auth_methods_supported":["client_secret_basic"]"#.utf8
        body += #","response_types_supported":[],"scopes_supported":["#.utf8
        for (index, entry) in Scope.named.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(entry.name, to: &body)
        }
        body += "]}".utf8
        return Response(
            status: .ok,
            headers: [.contentType: JSONResponses.contentType, .cacheControl: "public, max-age=\(tokens.settings.jwksMaxAge)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    // MARK: Client authentication

    /// The caller of an `/oauth2/*` request: HTTP Basic client credentials, or a Bearer key or
    /// access token (already authenticated by the logging middleware).
    func oauthCaller(_ request: Request, context: SessionRequestContext) async throws -> Caller {
        if let authorization = request.headers[.authorization], Self.isBasic(authorization) {
            let key = try await self.authenticateClient(request, context: context)
            return Caller(name: key.name, scopes: key.scopes, credential: .apiKey)
        }
        guard let caller = context.caller else { throw SessionAPIError.invalidClient }
        return caller
    }

    /// The API key whose NAME and SECRET arrive as HTTP Basic `client_id:client_secret`, each
    /// form-urlencoded before base64 (RFC 6749 §2.3.1). Brute force: after ``failureLimit`` failures
    /// within a minute for the client id, or for the source address, every attempt is 429 until the
    /// window passes; the counters are in the shared store, so every replica sees them. A failure
    /// says nothing about whether the client exists.
    func authenticateClient(_ request: Request, context: SessionRequestContext) async throws -> APIKey {
        let state = self.authenticator.oauthState
        let forwardedFor = request.headers[values: Self.forwardedFor]
        let address = "a:" + self.routes.configuration.clientAddresses.client(peer: context.remoteAddress, forwardedFor: forwardedFor)
        let credentials = request.headers[.authorization].flatMap(Self.basicCredentials)
        let client = credentials.map { "c:" + $0.id }
        // Both counters in one round trip's time; a store that cannot answer is 503, never a token.
        async let addressFailures = state.failures(of: address)
        async let clientFailures = Self.unlessNil(client) { try await state.failures(of: $0) }
        let (byAddress, byClient) = try await (addressFailures, clientFailures)
        for counter in [byAddress, byClient] where counter.count >= Self.failureLimit {
            throw SessionAPIError.tooManyRequests(retryAfter: Int((counter.remaining + 999) / 1000))
        }
        if let credentials, let key = self.matchingKey(credentials) {
            context.reportedCaller.value = key.name
            return key
        }
        async let countAddress = state.recordFailure(of: address, window: Self.failureWindow)
        async let countClient = Self.unlessNil(client) { try await state.recordFailure(of: $0, window: Self.failureWindow) }
        _ = try await (countAddress, countClient)
        self.metrics.failedClientAuthentications.increment()
        throw SessionAPIError.invalidClient
    }

    /// The key named by the credentials: read as RFC 6749 §2.3.1 says (each part form-urlencoded),
    /// else as sent, for the clients that skip that encoding (Authlib ≤ 1.6 among them). Either way
    /// the name and the secret must both match; it is one attempt, counted once.
    private func matchingKey(_ credentials: (id: String, secret: String, rawID: String, rawSecret: String)) -> APIKey? {
        let keys = self.authenticator.apiKeys
        if let key = keys.authenticate(credentials.secret), key.name == credentials.id { return key }
        guard credentials.rawSecret != credentials.secret || credentials.rawID != credentials.id else { return nil }
        if let key = keys.authenticate(credentials.rawSecret), key.name == credentials.rawID { return key }
        return nil
    }

    /// `body(subject)`, or an empty count without a subject.
    private static func unlessNil(
        _ subject: String?,
        _ body: (String) async throws -> (count: Int, remaining: Int64)
    ) async throws -> (count: Int, remaining: Int64) {
        guard let subject else { return (0, 0) }
        return try await body(subject)
    }

    static func isBasic(_ authorization: String) -> Bool {
        authorization.split(separator: " ", maxSplits: 1).first?.lowercased() == "basic"
    }

    /// `Basic base64(urlencode(id) ":" urlencode(secret))` decoded, with the parts as sent too; nil
    /// when malformed. The scheme name is case-insensitive; a `:` inside either part arrives as `%3A`,
    /// so the first `:` splits.
    static func basicCredentials(_ authorization: String) -> (id: String, secret: String, rawID: String, rawSecret: String)? {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1].trimmingSpaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let rawID = String(text[..<colon])
        let rawSecret = String(text[text.index(after: colon)...])
        guard !rawID.isEmpty, !rawSecret.isEmpty else { return nil }
        // A part that does not decode (a stray %) can still be a secret sent without the encoding.
        return (formDecode(Substring(rawID)) ?? rawID, formDecode(Substring(rawSecret)) ?? rawSecret, rawID, rawSecret)
    }
}
