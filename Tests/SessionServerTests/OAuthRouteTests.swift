import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SessionCore
import SessionTokens
import Testing
import TokenTestSupport

@testable import SessionServer

/// OAuth 2.0 client credentials against the in-memory store: every error row of the token endpoint,
/// HTTP Basic encoding, brute-force limits, minted tokens on /v1 routes, revocation, key reloads,
/// introspection of both token kinds, metadata.
@Suite struct OAuthRouteTests {
    /// A secret with the characters HTTP Basic encoding gets wrong: `:`, `%`, `+`.
    static let reportingSecret = "rep:ort%ing+secret-0123456789-abcdefgh"
    static let adminSecret = "admin-secret-0123456789-abcdefghijklmnop"
    static let checkerSecret = "checker-secret-0123456789-abcdefghijklm"
    static let issuer = "https://sessiond.oauth-test"
    static func keysText(reportingScopes: String = "sessions:read,sessions:create") -> String {
        """
        reporting \(reportingScopes) \(reportingSecret)
        admin sessions:read,sessions:create,sessions:write,sessions:admin \(adminSecret)
        checker tokens:introspect \(checkerSecret)
        """
    }

    struct Fixture {
        let app: any ApplicationProtocol
        let keys: APIKeys
        let state: InMemoryOAuthStateStore
    }

    func fixture(
        state: (any OAuthStateStore)? = nil, withTokens: Bool = true, configure: (inout SessionServiceConfiguration) -> Void = { _ in }
    ) throws -> (some ApplicationProtocol, APIKeys, any OAuthStateStore) {
        let keys = try APIKeys(parsing: Self.keysText())
        var configuration = SessionServiceConfiguration()
        configuration.tokens.issuer = Self.issuer
        configuration.tokens.audiences = ["orders"]
        configure(&configuration)
        let forge = TokenForge(keyID: "oauth-k1")
        let ring = try SigningKeyring(
            SigningKeyring.load(path: TokenRouteTests.keysFile(["oauth-k1 ES256 2026-01-01T00:00:00Z - oauth-k1.pem"], keys: [forge.key]))
        )
        let store = state ?? InMemoryOAuthStateStore()
        let router = SessionApplication.makeRouter(
            configuration: configuration, repository: InMemorySessionRepository(), apiKeys: keys, prometheus: nil,
            signingKeys: withTokens ? ring : nil, oauthState: store
        )
        return (Application(router: router), keys, store)
    }

    /// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1 says.
    static func basic(_ id: String, _ secret: String, scheme: String = "Basic") -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let pair = id.addingPercentEncoding(withAllowedCharacters: allowed)! + ":" + secret.addingPercentEncoding(withAllowedCharacters: allowed)!
        return "\(scheme) " + Data(pair.utf8).base64EncodedString()
    }

    static func form(_ authorization: String?, _ body: String, contentType: String = "application/x-www-form-urlencoded") -> HTTPFields {
        var fields: HTTPFields = [.contentType: contentType]
        if let authorization { fields[.authorization] = authorization }
        return fields
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] { TokenRouteTests.json(buffer) }

    static func token(
        _ client: some TestClientProtocol, _ authorization: String? = basic("reporting", reportingSecret),
        body: String = "grant_type=client_credentials"
    ) async throws -> TestResponse {
        try await client.execute(uri: "/oauth2/token", method: .post, headers: form(authorization, body), body: ByteBuffer(string: body))
    }

    static func mint(_ client: some TestClientProtocol, _ id: String = "reporting", _ secret: String = reportingSecret, scope: String? = nil) async throws -> String {
        let body = "grant_type=client_credentials" + (scope.map { "&scope=" + $0.replacingOccurrences(of: " ", with: "+") } ?? "")
        let response = try await token(client, basic(id, secret), body: body)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return json(response.body)["access_token"] as? String ?? ""
    }

    @Test func aClientWithASecretOfColonPercentPlusGetsAnRFC9068Token() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            for scheme in ["Basic", "basic", "BASIC"] {
                let response = try await Self.token(client, Self.basic("reporting", Self.reportingSecret, scheme: scheme))
                #expect(response.status == .ok, "\(scheme)")
                #expect(response.headers[.cacheControl] == "no-store" && response.headers[HTTPField.Name("Pragma")!] == "no-cache")
                let body = Self.json(response.body)
                #expect(Set(body.keys) == ["access_token", "token_type", "expires_in", "scope"])
                #expect(body["token_type"] as? String == "Bearer" && body["expires_in"] as? Int == 600)
                #expect(body["scope"] as? String == "sessions:read sessions:create")
                let (header, claims) = TokenRouteTests.parts(body["access_token"] as! String)
                #expect(header["typ"] as? String == "at+jwt" && header["kid"] as? String == "oauth-k1")
                #expect(claims["iss"] as? String == Self.issuer && claims["aud"] as? String == Self.issuer)
                #expect(claims["sub"] as? String == "reporting" && claims["client_id"] as? String == "reporting")
                #expect((claims["exp"] as! Int) - (claims["iat"] as! Int) == 600 && claims["jti"] is String)
                #expect(claims["sid"] == nil)
            }
            // Clients that skip the form-urlencoding (Authlib ≤ 1.6) send the secret as is: accepted too.
            let raw = "Basic " + Data("reporting:\(Self.reportingSecret)".utf8).base64EncodedString()
            #expect(try await Self.token(client, raw).status == .ok)
            // A narrower scope on request.
            let narrow = Self.json(try await Self.token(client, body: "grant_type=client_credentials&scope=sessions%3Aread").body)
            #expect(narrow["scope"] as? String == "sessions:read")
        }
    }

    @Test func everyTokenEndpointErrorHasItsStatusAndOAuthCode() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            let cases: [(String?, String, HTTPResponse.Status, String, String)] = [
                (nil, "grant_type=client_credentials", .unauthorized, "invalid_client", "no client authentication"),
                (Self.basic("reporting", "wrong-secret-0123456789-abcdefghijklmnop"), "grant_type=client_credentials", .unauthorized, "invalid_client", "wrong secret"),
                (Self.basic("nobody", Self.reportingSecret), "grant_type=client_credentials", .unauthorized, "invalid_client", "unknown client"),
                ("Basic !!!not-base64", "grant_type=client_credentials", .unauthorized, "invalid_client", "malformed Basic"),
                ("Bearer " + Self.reportingSecret, "grant_type=client_credentials", .unauthorized, "invalid_client", "Bearer is not client authentication"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials&client_secret=\(Self.reportingSecret)", .badRequest, "invalid_request", "secret in the body"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials&client_id=reporting", .badRequest, "invalid_request", "client_id in the body"),
                (Self.basic("reporting", Self.reportingSecret), "", .badRequest, "invalid_request", "no grant_type"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=password&username=a&password=b", .badRequest, "unsupported_grant_type", "password grant"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=authorization_code&code=x", .badRequest, "unsupported_grant_type", "authorization code grant"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=refresh_token&refresh_token=x", .badRequest, "unsupported_grant_type", "refresh grant"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials&scope=sessions:admin", .badRequest, "invalid_scope", "a scope beyond the key's"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials&scope=everything", .badRequest, "invalid_scope", "an unknown scope"),
                (Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials&grant_type=client_credentials", .badRequest, "invalid_request", "a repeated parameter"),
            ]
            var unauthorizedBodies = Set<String>()
            for (authorization, body, status, code, why) in cases {
                let response = try await Self.token(client, authorization, body: body)
                #expect(response.status == status, "\(why)")
                let object = Self.json(response.body)
                #expect(object["error"] as? String == code, "\(why): \(object)")
                #expect(Set(object.keys) == ["error", "error_description"], "\(why)")
                #expect(response.headers[.cacheControl] == "no-store")
                if status == .unauthorized {
                    #expect(response.headers[.wwwAuthenticate] == #"Basic realm="sessiond""#)
                    unauthorizedBodies.insert(String(buffer: response.body))
                }
            }
            // A failed authentication never says whether the client exists: one body for all.
            #expect(unauthorizedBodies.count == 1)
            let json = try await client.execute(
                uri: "/oauth2/token", method: .post, headers: [.contentType: "application/json", .authorization: Self.basic("reporting", Self.reportingSecret)],
                body: ByteBuffer(string: #"{"grant_type":"client_credentials"}"#)
            )
            #expect(json.status == .badRequest && Self.json(json.body)["error"] as? String == "invalid_request")
        }
    }

    @Test func theEleventhFailureIs429WhateverItSends() async throws {
        let (app, _, store) = try self.fixture()
        try await app.test(.router) { client in
            for attempt in 1...10 {
                let response = try await Self.token(client, Self.basic("reporting", "wrong-\(attempt)-0123456789-abcdefghijklmnopq"))
                #expect(response.status == .unauthorized, "attempt \(attempt)")
            }
            let eleventh = try await Self.token(client)  // the right secret, too late
            #expect(eleventh.status == .tooManyRequests)
            #expect(Self.json(eleventh.body)["error"] as? String == "too_many_requests")
            let retryAfter = try #require(eleventh.headers[.retryAfter].flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 60)
        }
        // The two limits apply independently: counters seeded as if from elsewhere (other replicas,
        // other addresses) in the shared store.
        let state = InMemoryOAuthStateStore()
        for _ in 0..<10 { try await state.recordFailure(of: "c:reporting", window: 60_000) }
        let (limitedClient, _, _) = try self.fixture(state: state)
        try await limitedClient.test(.router) { client in
            let limited = try await Self.token(client)
            let other = try await Self.token(client, Self.basic("admin", Self.adminSecret))
            #expect(limited.status == .tooManyRequests)
            #expect(other.status == .ok)
        }
        let busy = InMemoryOAuthStateStore()
        for _ in 0..<10 { try await busy.recordFailure(of: "a:unknown", window: 60_000) }  // the test client's address
        let (limitedAddress, _, _) = try self.fixture(state: busy)
        try await limitedAddress.test(.router) { client in
            let limited = try await Self.token(client)
            let other = try await Self.token(client, Self.basic("admin", Self.adminSecret))
            #expect(limited.status == .tooManyRequests)
            #expect(other.status == .tooManyRequests)
        }
        _ = store
    }

    /// Behind a trusted proxy the address limit counts the client that `X-Forwarded-For` names, so one
    /// attacker does not lock out everyone behind the load balancer, and a forged entry to the left of
    /// the proxy's does not move the attacker to a fresh counter.
    @Test func behindATrustedProxyTheAddressLimitCountsTheForwardedClient() async throws {
        let (app, _, _) = try self.fixture { $0.clientAddresses = ClientAddressPolicy(trustedProxies: [IPNetwork("127.0.0.0/8")!]) }
        try await app.test(.live) { client in  // a real socket: the peer is 127.0.0.1
            func token(from forwardedFor: String, _ authorization: String) async throws -> TestResponse {
                var headers = Self.form(authorization, "grant_type=client_credentials")
                headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor
                return try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: "grant_type=client_credentials"))
            }
            // Ten wrong secrets, each for another client id: only the address counter reaches 10.
            for attempt in 1...10 {
                let response = try await token(from: "203.0.113.7", Self.basic("guess-\(attempt)", "wrong-0123456789-abcdefghijklmnopqrstuvwxyz"))
                #expect(response.status == .unauthorized, "attempt \(attempt)")
            }
            #expect(try await token(from: "203.0.113.7", Self.basic("reporting", Self.reportingSecret)).status == .tooManyRequests)
            // A forged entry left of what the proxy appended is not believed.
            #expect(try await token(from: "198.51.100.9, 203.0.113.7", Self.basic("reporting", Self.reportingSecret)).status == .tooManyRequests)
            // Another client behind the same proxy is not locked out.
            #expect(try await token(from: "198.51.100.9", Self.basic("reporting", Self.reportingSecret)).status == .ok)
        }

        // Without trusted proxies X-Forwarded-For is ignored: inventing addresses does not step around
        // the limit of the TCP peer.
        let (direct, _, _) = try self.fixture()
        try await direct.test(.live) { client in
            for attempt in 1...10 {
                var headers = Self.form(Self.basic("guess-\(attempt)", "wrong-0123456789-abcdefghijklmnopqrstuvwxyz"), "grant_type=client_credentials")
                headers[HTTPField.Name("X-Forwarded-For")!] = "192.0.2.\(attempt)"
                let response = try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: "grant_type=client_credentials"))
                #expect(response.status == .unauthorized, "attempt \(attempt)")
            }
            var headers = Self.form(Self.basic("reporting", Self.reportingSecret), "grant_type=client_credentials")
            headers[HTTPField.Name("X-Forwarded-For")!] = "192.0.2.99"
            let response = try await client.execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(response.status == .tooManyRequests)
        }
    }

    @Test func aMintedTokenActsLikeItsKeyWithItsOwnScopes() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            let token = try await Self.mint(client)
            let bearer: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let created = try await client.execute(uri: "/v1/sessions", method: .post, headers: bearer, body: ByteBuffer(string: #"{"user_id":"carol"}"#))
            #expect(created.status == .created)
            let sessionToken = Self.json(created.body)["token"] as! String
            var resolve = bearer
            resolve[HTTPField.Name("X-Session-Token")!] = sessionToken
            try await client.execute(uri: "/v1/session", method: .get, headers: resolve) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/users/carol/sessions", method: .get, headers: bearer) {
                #expect($0.status == .forbidden && TokenRouteTests.errorCode($0.body) == "forbidden")
            }
            // A token asked for with a narrower scope is narrower.
            let readOnly = try await Self.mint(client, scope: "sessions:read")
            try await client.execute(
                uri: "/v1/sessions", method: .post, headers: [.authorization: "Bearer \(readOnly)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"user_id":"carol"}"#)
            ) { #expect($0.status == .forbidden) }
            // A tampered token is no caller at all.
            try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Bearer \(token.dropLast(2))xx"]) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func revocationEndsATokenAndOnlyItsClientOrAnAdminMayRevoke() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            let mine = try await Self.mint(client)
            let other = try await Self.mint(client, "admin", Self.adminSecret)
            func revoke(_ token: String, as authorization: String) async throws -> TestResponse {
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                let body = "token=" + token.addingPercentEncoding(withAllowedCharacters: allowed)! + "&token_type_hint=access_token"
                return try await client.execute(uri: "/oauth2/revoke", method: .post, headers: Self.form(authorization, body), body: ByteBuffer(string: body))
            }
            // Another client's token: refused.
            let refused = try await revoke(other, as: Self.basic("reporting", Self.reportingSecret))
            #expect(refused.status == .forbidden && Self.json(refused.body)["error"] as? String == "unauthorized_client")
            try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Bearer \(other)"]) {
                #expect($0.status == .notFound)  // still a caller: no session token, so 404
            }
            // Its own token: revoked, refused from now on; unknown and invalid tokens answer 200 too.
            #expect(try await revoke(mine, as: Self.basic("reporting", Self.reportingSecret)).status == .ok)
            try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Bearer \(mine)"]) {
                #expect($0.status == .unauthorized)
            }
            #expect(try await revoke("not-a-token", as: Self.basic("reporting", Self.reportingSecret)).status == .ok)
            #expect(try await revoke(mine, as: Self.basic("reporting", Self.reportingSecret)).status == .ok)
            // An admin (here by Bearer key) revokes any client's token.
            #expect(try await revoke(other, as: "Bearer \(Self.adminSecret)").status == .ok)
            try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Bearer \(other)"]) {
                #expect($0.status == .unauthorized)
            }
            // Introspection agrees.
            let introspection = try await client.execute(
                uri: "/oauth2/introspect", method: .post, headers: Self.form(Self.basic("checker", Self.checkerSecret), "token=\(mine)"),
                body: ByteBuffer(string: "token=\(mine)")
            )
            #expect(Self.json(introspection.body) as NSDictionary == ["active": false] as NSDictionary)
            // Without authentication: 401.
            #expect(try await revoke(mine, as: "Basic eDp5").status == .unauthorized)
        }
    }

    @Test func reloadingTheKeysFileEndsTheTokensOfAChangedOrRemovedKey() async throws {
        let (app, keys, _) = try self.fixture()
        try await app.test(.router) { client in
            let token = try await Self.mint(client)
            let adminToken = try await Self.mint(client, "admin", Self.adminSecret)
            let bearer: (String) -> HTTPFields = { [.authorization: "Bearer \($0)"] }
            try await client.execute(uri: "/v1/session", method: .get, headers: bearer(token)) { #expect($0.status == .notFound) }
            // Same secret, other scopes: the key changed, its tokens end.
            keys.replace(with: try APIKeys(parsing: Self.keysText(reportingScopes: "sessions:read")))
            try await client.execute(uri: "/v1/session", method: .get, headers: bearer(token)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/session", method: .get, headers: bearer(adminToken)) { #expect($0.status == .notFound) }
            // Removed: its tokens end too.
            keys.replace(with: try APIKeys(parsing: "checker tokens:introspect \(Self.checkerSecret)"))
            try await client.execute(uri: "/v1/session", method: .get, headers: bearer(adminToken)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func introspectionTakesHTTPBasicAndAnswersForBothKindsOfTokens() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            let token = try await Self.mint(client)
            let response = try await client.execute(
                uri: "/oauth2/introspect", method: .post, headers: Self.form(Self.basic("checker", Self.checkerSecret), ""),
                body: ByteBuffer(string: "token=\(token)")
            )
            let body = Self.json(response.body)
            #expect(response.status == .ok && body["active"] as? Bool == true)
            #expect(Set(body.keys) == ["active", "sub", "aud", "iss", "exp", "iat", "jti", "client_id", "scope", "token_type"])
            #expect(body["client_id"] as? String == "reporting" && body["scope"] as? String == "sessions:read sessions:create")
            // A client without tokens:introspect may not ask.
            let refused = try await client.execute(
                uri: "/oauth2/introspect", method: .post, headers: Self.form(Self.basic("reporting", Self.reportingSecret), ""),
                body: ByteBuffer(string: "token=\(token)")
            )
            #expect(refused.status == .forbidden)
        }
    }

    @Test func theMetadataDocumentNamesEveryEndpoint() async throws {
        let (app, _, _) = try self.fixture()
        try await app.test(.router) { client in
            try await client.execute(uri: "/.well-known/oauth-authorization-server", method: .get) { response in
                let body = Self.json(response.body)
                #expect(response.status == .ok && body["issuer"] as? String == Self.issuer)
                #expect(body["token_endpoint"] as? String == Self.issuer + "/oauth2/token")
                #expect(body["jwks_uri"] as? String == Self.issuer + "/.well-known/jwks.json")
                #expect(body["introspection_endpoint"] as? String == Self.issuer + "/oauth2/introspect")
                #expect(body["revocation_endpoint"] as? String == Self.issuer + "/oauth2/revoke")
                #expect(body["grant_types_supported"] as? [String] == ["client_credentials"])
                #expect(body["token_endpoint_auth_methods_supported"] as? [String] == ["client_secret_basic"])
                #expect((body["scopes_supported"] as? [String])?.contains("sessions:admin") == true)
            }
        }
    }

    @Test func aStoreThatCannotCountIs503AndNeverAToken() async throws {
        struct DownStore: OAuthStateStore {
            func failures(of subject: String) async throws -> (count: Int, remaining: Int64) { throw SessionStoreError.unavailable("down") }
            func recordFailure(of subject: String, window: Int64) async throws -> (count: Int, remaining: Int64) { throw SessionStoreError.unavailable("down") }
            func revoke(tokenID: String, ttl: Int64) async throws { throw SessionStoreError.unavailable("down") }
            func isRevoked(tokenID: String) async throws -> Bool { throw SessionStoreError.unavailable("down") }
        }
        let (app, _, _) = try self.fixture(state: DownStore())
        try await app.test(.router) { client in
            let response = try await Self.token(client)
            #expect(response.status == .serviceUnavailable && !String(buffer: response.body).contains("access_token"))
            #expect(response.headers[.retryAfter] == "1")
        }
        let (noTokens, _, _) = try self.fixture(withTokens: false)
        try await noTokens.test(.router) { client in
            let response = try await Self.token(client)
            #expect(response.status == .notFound && Self.json(response.body)["error"] as? String == "tokens_not_configured")
        }
    }
}
