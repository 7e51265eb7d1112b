import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import SessionCore
import SessionTokens

/// The token routes: session → access-token exchange, gateway forward-auth, the JWKS and
/// introspection. Without a signing-keys file every one answers 404 `tokens_not_configured`.
struct TokenRoutes: Sendable {
    let routes: SessionRoutes
    let tokens: TokenService?
    let authenticator: CallerAuthenticator
    let metrics = TokenMetrics()

    static let jwksContentType = "application/jwk-set+json"

    /// `/v1/session/token` and `/v1/auth` (behind the API-key middleware).
    func register(v1 group: RouterGroup<SessionRequestContext>) {
        group.post("session/token", use: self.exchange)
        group.get("auth", use: self.forwardAuth)
    }

    /// `/.well-known/*` and `/oauth2/*`.
    func register(root router: Router<SessionRequestContext>) {
        router.get(".well-known/jwks.json", use: self.jwks)
        router.get(".well-known/oauth-authorization-server", use: self.metadata)
        router.post("oauth2/introspect", use: self.introspect)
        router.post("oauth2/token", use: self.token)
        router.post("oauth2/revoke", use: self.revoke)
    }

    func service() throws -> TokenService {
        guard let tokens else { throw SessionAPIError.tokensNotConfigured }
        return tokens
    }

    // MARK: Exchange

    @Sendable func exchange(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.issueTokens, named: "tokens:issue")
        _ = try self.service()
        guard SessionRoutes.isJSON(contentType: request.headers[.contentType]) else { throw SessionAPIError.unsupportedMediaType }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumExchangeBody)
        } catch {
            throw SessionAPIError.payloadTooLarge("the request body exceeds \(Self.maximumExchangeBody) bytes")
        }
        let body = try await self.exchange(body: buffer, token: self.routes.token(in: request), caller: context.caller?.name ?? "")
        return JSONResponses.response(.ok, body)
    }

    /// The largest exchange body.
    static let maximumExchangeBody = 4096

    /// The exchange's 200 body for the session of `token`; shared by the router and the fast path.
    func exchange(body buffer: ByteBuffer, token: SessionToken?, caller: String) async throws -> [UInt8] {
        let tokens = try self.service()
        guard case .object(let members) = try SessionRoutes.parseJSON(buffer) else {
            throw SessionAPIError.invalidRequest("the body must be a JSON object")
        }
        if let unknown = members.first(where: { $0.key != "audience" && $0.key != "ttl" }) {
            throw SessionAPIError.invalidRequest("unknown field \(SessionRoutes.describe(unknown.key))")
        }
        guard case .string(let audience)? = members.first(where: { $0.key == "audience" })?.value else {
            throw SessionAPIError.invalidRequest("audience must be a string")
        }
        var ttl: Int? = nil
        if let value = members.first(where: { $0.key == "ttl" })?.value, value != .null {
            guard case .number(let text) = value, let number = Double(text), number.rounded() == number,
                number >= 1, number <= Double(tokens.settings.maximumTTL)
            else {
                throw SessionAPIError.invalidRequest("ttl must be a whole number of seconds from 1 to \(tokens.settings.maximumTTL)")
            }
            ttl = Int(number)
        }
        let minted = try await self.mint(token: token, audience: audience, ttl: ttl, caller: caller, tokens: tokens, noSession: .sessionNotFound)
        var body = Array(#"{"access_token":""#.utf8)
        body += minted.token.utf8
        body += #"","token_type":"Bearer","expires_in":\#(minted.expiresIn),"issued_token_type":"urn:ietf:params:oauth:token-type:jwt"}"#.utf8
        return body
    }

    // MARK: Forward-auth

    /// For gateways (nginx `auth_request`, Traefik ForwardAuth, Envoy `ext_authz`, Caddy
    /// `forward_auth`): the forwarded request's cookie becomes `Authorization: Bearer <jwt>` on an
    /// empty 200; no valid session is 401 so that the gateway refuses the request.
    @Sendable func forwardAuth(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.issueTokens, named: "tokens:issue")
        _ = try self.service()
        let authorization = try await self.forwardAuth(
            audience: request.uri.queryParameters.get("audience"),
            token: self.routes.token(in: request),
            caller: context.caller?.name ?? ""
        )
        return Response(status: .ok, headers: [.authorization: authorization, .contentLength: "0"])
    }

    /// The forward-auth answer's `Authorization` value; shared by the router and the fast path.
    func forwardAuth(audience: String?, token: SessionToken?, caller: String) async throws -> String {
        let tokens = try self.service()
        guard let audience, !audience.isEmpty else {
            throw SessionAPIError.invalidRequest("the audience query parameter is required")
        }
        let minted = try await self.mint(token: token, audience: audience, ttl: nil, caller: caller, tokens: tokens, noSession: .noSessionAtGateway)
        return "Bearer \(minted.token)"
    }

    private func mint(
        token: SessionToken?,
        audience: String,
        ttl: Int?,
        caller: String,
        tokens: TokenService,
        noSession: SessionAPIError
    ) async throws -> (token: String, expiresIn: Int) {
        guard tokens.audiences.contains(audience) else {
            throw SessionAPIError.invalidRequest("audience is not one of the configured token audiences")
        }
        // The same token rules as a resolve; the resolve slides the idle deadline like one.
        guard let token, let session = try await self.routes.repository.resolve(token) else {
            throw noSession
        }
        let minted: (token: String, expiresIn: Int)
        do {
            minted = try tokens.mint(session: session, audience: audience, ttl: ttl, clientID: caller)
        } catch let error as SessionAPIError where error == .sessionNotFound {
            throw noSession
        }
        self.metrics.issued.increment()
        return minted
    }

    // MARK: JWKS

    @Sendable func jwks(_ request: Request, context: SessionRequestContext) async throws -> Response {
        let tokens = try self.service()
        let (body, eTag) = tokens.jwks()
        let headers: HTTPFields = [
            .contentType: Self.jwksContentType,
            .cacheControl: "public, max-age=\(tokens.settings.jwksMaxAge)",
            .eTag: eTag,
        ]
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { tag in
                let tag = tag.trimmingSpaces
                return tag == "*" || tag == eTag || tag == "W/" + eTag
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: Introspection (RFC 7662)

    @Sendable func introspect(_ request: Request, context: SessionRequestContext) async throws -> Response {
        let tokens = try self.service()
        let caller = try await self.oauthCaller(request, context: context)
        guard caller.scopes.contains(.introspectTokens) else { throw SessionAPIError.forbidden("tokens:introspect") }
        let form = try await Self.formBody(request)
        guard let token = form["token"], !token.isEmpty else { throw SessionAPIError.invalidRequest("the token parameter is required") }
        // One signature check; the audience tells the kind (the issuer is never a session audience).
        guard let claims = tokens.validate(token) else { return self.inactive() }
        let extra: (name: String, value: String)
        if tokens.isSessionToken(claims), let handleText = claims.sessionHandle {
            // A session token: active while its session is live (503 when the store cannot answer:
            // never "inactive" for "cannot check").
            guard let handle = SessionHandle(parsing: handleText),
                let session = try await self.routes.repository.session(handle: handle),
                session.userID == claims.subject
            else { return self.inactive() }
            extra = ("sid", handleText)
        } else if let client = self.authenticator.clientToken(claims, token: token, tokens: tokens) {
            // A client-credentials token: active while its key is unchanged and it is not revoked.
            guard try await self.authenticator.isStillValid(client.caller) else { return self.inactive() }
            extra = ("scope", client.token.scopeText)
        } else {
            return self.inactive()
        }
        var body = Array(#"{"active":true,"sub":"#.utf8)
        JSONText.appendQuoted(claims.subject, to: &body)
        body += #","aud":"#.utf8
        if claims.audiences.count == 1 {
            JSONText.appendQuoted(claims.audiences[0], to: &body)
        } else {
            body.append(UInt8(ascii: "["))
            for (index, audience) in claims.audiences.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(audience, to: &body)
            }
            body.append(UInt8(ascii: "]"))
        }
        body += #","iss":"#.utf8
        JSONText.appendQuoted(claims.issuer, to: &body)
        body += #","exp":\#(claims.expiresAt),"iat":\#(claims.issuedAt),"jti":"#.utf8
        JSONText.appendQuoted(claims.tokenID, to: &body)
        body += ",\"\(extra.name)\":".utf8
        JSONText.appendQuoted(extra.value, to: &body)
        body += #","client_id":"#.utf8
        JSONText.appendQuoted(claims.clientID ?? "", to: &body)
        body += #","token_type":"Bearer"}"#.utf8
        self.metrics.active.increment()
        return JSONResponses.response(.ok, body)
    }

    private func inactive() -> Response {
        self.metrics.inactive.increment()
        return JSONResponses.response(.ok, Array(#"{"active":false}"#.utf8))
    }

    /// An `application/x-www-form-urlencoded` body (at most 16 KiB) as name → value; a repeated
    /// name is refused (RFC 6749 §3.1), as is any other media type.
    static func formBody(_ request: Request) async throws -> [String: String] {
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces.lowercased() } ?? ""
        guard mediaType == "application/x-www-form-urlencoded" else {
            // RFC 6749 §5.2 has no media-type error: a body in another format is an invalid request.
            throw SessionAPIError.invalidRequest("the body must be application/x-www-form-urlencoded")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 16 * 1024)
        } catch {
            throw SessionAPIError.payloadTooLarge("the request body exceeds 16384 bytes")
        }
        return try self.parseForm(String(buffer: buffer))
    }

    /// `a=1&b=2` with `+` as space and percent-escapes; nil-free: malformed escapes are refused.
    static func parseForm(_ text: String) throws -> [String: String] {
        var form: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecode(parts[0]), let value = Self.formDecode(parts.count > 1 ? parts[1] : "") else {
                throw SessionAPIError.invalidRequest("the form body is malformed")
            }
            guard form[name] == nil else { throw SessionAPIError.invalidRequest("parameter \(SessionRoutes.describe(name)) is repeated") }
            form[name] = value
        }
        return form
    }

    /// Form-urlencoding decoded: `+` is a space, `%XX` a byte; the result must be UTF-8.
    static func formDecode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// Counters of token events.
struct TokenMetrics: Sendable {
    let issued = Counter(label: "sessiond_tokens_issued_total")
    let active = Counter(label: "sessiond_tokens_introspected_total", dimensions: [("active", "true")])
    let inactive = Counter(label: "sessiond_tokens_introspected_total", dimensions: [("active", "false")])
    let clientTokens = Counter(label: "sessiond_client_tokens_issued_total")
    let revoked = Counter(label: "sessiond_client_tokens_revoked_total")
    let failedClientAuthentications = Counter(label: "sessiond_client_authentication_failures_total")
}
