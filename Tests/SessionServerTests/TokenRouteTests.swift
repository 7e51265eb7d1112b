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

/// The token routes against the in-memory store: exchange, forward-auth, JWKS, introspection, and the
/// signing-keys file rules.
@Suite struct TokenRouteTests {
    static let gatewayKey = "gateway-key-0123456789-abcdefghijklmnop"
    static let checkerKey = "checker-key-0123456789-abcdefghijklmnop"
    static let loginKey = "login-key-0123456789-abcdefghijklmnopq"
    static let keys = try! APIKeys(
        parsing: """
            gateway tokens:issue \(gatewayKey)
            checker tokens:introspect \(checkerKey)
            login sessions:create,sessions:read,sessions:write,sessions:admin \(loginKey)
            """
    )
    static let issuer = "https://sessiond.test"
    let forge = TokenForge(keyID: "route-k1")

    /// A keys file in a fresh directory, with `lines` (KID ALG FROM UNTIL PEM) and the PEMs of `keys`.
    static func keysFile(_ lines: [String], keys: [PrivateSigningKey]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for key in keys { try key.pkcs8PEM.write(toFile: directory + "/\(key.keyID).pem", atomically: true, encoding: .utf8) }
        let path = directory + "/signing-keys"
        try ("# KID ALG SIGN_FROM SIGN_UNTIL PEM_FILE\n" + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func makeApplication(
        keyring: SigningKeyring? = nil,
        configure: (inout SessionServiceConfiguration) -> Void = { _ in }
    ) throws -> (some ApplicationProtocol, SigningKeyring?) {
        var configuration = SessionServiceConfiguration()
        configuration.tokens.issuer = Self.issuer
        configuration.tokens.audiences = ["orders", "billing"]
        configuration.tokens.claims = ["name"]
        configure(&configuration)
        let ring = try keyring ?? SigningKeyring(
            SigningKeyring.load(path: Self.keysFile(["route-k1 ES256 2026-01-01T00:00:00Z - route-k1.pem"], keys: [self.forge.key]))
        )
        let router = SessionApplication.makeRouter(
            configuration: configuration,
            repository: InMemorySessionRepository(),
            apiKeys: Self.keys,
            prometheus: nil,
            signingKeys: configuration.tokens.signingKeysFile == "off" ? nil : ring
        )
        return (Application(router: router), ring)
    }

    static func headers(_ key: String?, token: String? = nil, contentType: String? = "application/json") -> HTTPFields {
        var fields: HTTPFields = [:]
        if let key { fields[.authorization] = "Bearer \(key)" }
        if let token { fields[HTTPField.Name("X-Session-Token")!] = token }
        if let contentType { fields[.contentType] = contentType }
        return fields
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func errorCode(_ buffer: ByteBuffer) -> String? {
        (json(buffer)["error"] as? [String: Any])?["code"] as? String
    }

    static func create(_ client: some TestClientProtocol, idle: Int = 1800) async throws -> (token: String, handle: String) {
        let body = #"{"user_id":"alice","data":{"name":"Alice","email":"alice@example.com"},"idle_timeout":\#(idle)}"#
        return try await client.execute(uri: "/v1/sessions", method: .post, headers: headers(loginKey), body: ByteBuffer(string: body)) { response in
            #expect(response.status == .created)
            let object = json(response.body)
            return (object["token"] as! String, (object["session"] as! [String: Any])["handle"] as! String)
        }
    }

    static func exchange(_ client: some TestClientProtocol, _ token: String, body: String = #"{"audience":"orders"}"#) async throws -> TestResponse {
        try await client.execute(uri: "/v1/session/token", method: .post, headers: headers(gatewayKey, token: token), body: ByteBuffer(string: body))
    }

    static func introspect(_ client: some TestClientProtocol, _ jwt: String, key: String = checkerKey) async throws -> (HTTPResponse.Status, [String: Any]) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = "token=" + jwt.addingPercentEncoding(withAllowedCharacters: allowed)! + "&token_type_hint=access_token"
        return try await client.execute(
            uri: "/oauth2/introspect", method: .post, headers: headers(key, contentType: "application/x-www-form-urlencoded"), body: ByteBuffer(string: body)
        ) { ($0.status, json($0.body)) }
    }

    static func parts(_ jwt: String) -> (header: [String: Any], claims: [String: Any]) {
        let pieces = jwt.split(separator: ".").map { Base64URL.decode(Array($0.utf8)) ?? [] }
        func object(_ bytes: [UInt8]) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:] }
        return (object(pieces[0]), object(pieces[1]))
    }

    @Test func anExchangeMintsAnRFC9068TokenWithExactlyTheContractClaims() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, handle) = try await Self.create(client)
            let response = try await Self.exchange(client, token, body: #"{"audience":"orders","ttl":120}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = Self.json(response.body)
            #expect(body["token_type"] as? String == "Bearer" && body["expires_in"] as? Int == 120)
            #expect(body["issued_token_type"] as? String == "urn:ietf:params:oauth:token-type:jwt")
            let jwt = try #require(body["access_token"] as? String)
            let (header, claims) = Self.parts(jwt)
            #expect(header as NSDictionary == ["alg": "ES256", "typ": "at+jwt", "kid": "route-k1"] as NSDictionary)
            #expect(Set(claims.keys) == ["iss", "sub", "aud", "iat", "exp", "jti", "sid", "client_id", "name"])
            #expect(claims["iss"] as? String == Self.issuer && claims["sub"] as? String == "alice" && claims["aud"] as? String == "orders")
            #expect(claims["sid"] as? String == handle && claims["client_id"] as? String == "gateway" && claims["name"] as? String == "Alice")
            #expect((claims["exp"] as! Int) - (claims["iat"] as! Int) == 120)
            let verified = try AccessTokenJWT.validate(
                jwt, keys: KeySet([self.forge.key.publicKey]), expectations: .init(issuer: Self.issuer, audiences: ["orders"]),
                now: Int64(Date().timeIntervalSince1970)
            ).get()
            #expect(verified.subject == "alice")
            // Two exchanges never share a jti.
            let again = Self.parts(Self.json(try await Self.exchange(client, token).body)["access_token"] as! String).claims
            #expect(again["jti"] as? String != claims["jti"] as? String)
            #expect((again["exp"] as! Int) - (again["iat"] as! Int) == 60)  // --token-ttl default
        }
    }

    @Test func aTokenNeverOutlivesItsSession() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, _) = try await Self.create(client, idle: 30)
            let response = try await Self.exchange(client, token, body: #"{"audience":"billing","ttl":300}"#)
            let expiresIn = try #require(Self.json(response.body)["expires_in"] as? Int)
            #expect(expiresIn <= 30 && expiresIn >= 28)
            let claims = Self.parts(Self.json(response.body)["access_token"] as! String).claims
            #expect((claims["exp"] as! Int) - (claims["iat"] as! Int) == expiresIn)
        }
    }

    @Test func exchangeErrorsHaveTheirStatusAndCode() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, _) = try await Self.create(client)
            for (body, why) in [
                (#"{"audience":"payroll"}"#, "an audience not configured"), (#"{"audience":"orders","ttl":0}"#, "ttl 0"),
                (#"{"audience":"orders","ttl":301}"#, "ttl above the max"), (#"{"audience":"orders","ttl":1.5}"#, "fractional ttl"),
                (#"{"audience":7}"#, "audience not a string"), (#"{}"#, "no audience"), (#"{"audience":"orders","x":1}"#, "unknown field"),
                ("[1]", "not an object"), ("{", "malformed JSON"),
            ] {
                let response = try await Self.exchange(client, token, body: body)
                #expect(response.status == .badRequest, "\(why)")
                #expect(Self.errorCode(response.body) == "invalid_request", "\(why)")
            }
            let body = ByteBuffer(string: #"{"audience":"orders"}"#)
            try await client.execute(uri: "/v1/session/token", method: .post, headers: Self.headers(nil, token: token), body: body) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/session/token", method: .post, headers: Self.headers(Self.checkerKey, token: token), body: body) {
                #expect($0.status == .forbidden && Self.errorCode($0.body) == "forbidden")
            }
            try await client.execute(uri: "/v1/session/token", method: .post, headers: Self.headers(Self.gatewayKey, token: String(repeating: "A", count: 47)), body: body) {
                #expect($0.status == .notFound && Self.errorCode($0.body) == "session_not_found")
            }
            try await client.execute(
                uri: "/v1/session/token", method: .post, headers: Self.headers(Self.gatewayKey, token: token, contentType: "text/plain"), body: body
            ) { #expect($0.status == .unsupportedMediaType) }
        }
    }

    @Test func forwardAuthAnswersWithTheTokenInAHeaderOr401() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, _) = try await Self.create(client)
            var headers = Self.headers(Self.gatewayKey, contentType: nil)
            headers[.cookie] = "theme=dark; __Host-sid=\(token)"
            try await client.execute(uri: "/v1/auth?audience=orders", method: .get, headers: headers) { response in
                #expect(response.status == .ok && response.body.readableBytes == 0)
                #expect(response.headers[.cacheControl] == "no-store")
                let authorization = try #require(response.headers[.authorization])
                #expect(authorization.hasPrefix("Bearer ey"))
                #expect(Self.parts(String(authorization.dropFirst(7))).claims["aud"] as? String == "orders")
            }
            headers[.cookie] = "__Host-sid=\(String(repeating: "B", count: 47))"
            try await client.execute(uri: "/v1/auth?audience=orders", method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized && Self.errorCode(response.body) == "session_not_found")
                #expect(response.headers[.authorization] == nil)
            }
            headers[.cookie] = nil
            try await client.execute(uri: "/v1/auth?audience=orders", method: .get, headers: headers) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/auth", method: .get, headers: headers) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/auth?audience=orders", method: .get, headers: Self.headers(Self.checkerKey)) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test func theJWKSIsPublicCacheableAndAnswers304() async throws {
        let later = PrivateSigningKey.generate(keyID: "later", algorithm: .edDSA)
        let retired = PrivateSigningKey.generate(keyID: "retired", algorithm: .es256)
        let nextYear = PrivateSigningKey.generate(keyID: "next-year", algorithm: .es256)
        let now = Int64(Date().timeIntervalSince1970)
        func stamp(_ seconds: Int64) -> String {
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        let path = try Self.keysFile(
            [
                "route-k1 ES256 2026-01-01T00:00:00Z - route-k1.pem",
                "later EdDSA \(stamp(now + 200)) - later.pem",  // within the 300 s cache lifetime: published
                "next-year ES256 \(stamp(now + 86_400 * 300)) - next-year.pem",  // not yet
                "retired ES256 2026-01-01T00:00:00Z \(stamp(now - 100)) retired.pem",  // within max TTL after: published
            ],
            keys: [self.forge.key, later, nextYear, retired]
        )
        let (app, _) = try self.makeApplication(keyring: SigningKeyring(SigningKeyring.load(path: path)))
        try await app.test(.router) { client in
            let eTag = try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response -> String in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/jwk-set+json")
                #expect(response.headers[.cacheControl] == "public, max-age=300")
                let keys = (Self.json(response.body)["keys"] as? [[String: Any]]) ?? []
                #expect(Set(keys.compactMap { $0["kid"] as? String }) == ["route-k1", "later", "retired"])
                #expect(keys.allSatisfy { $0["d"] == nil && $0["use"] as? String == "sig" })
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/.well-known/jwks.json", method: .get, headers: [.ifNoneMatch: eTag]) { response in
                #expect(response.status == .notModified && response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == eTag)
            }
            try await client.execute(uri: "/.well-known/jwks.json", method: .get, headers: [.ifNoneMatch: "\"other\""]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func introspectionAnswersForLiveSessionsOnly() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, handle) = try await Self.create(client)
            let jwt = Self.json(try await Self.exchange(client, token).body)["access_token"] as! String
            let (status, active) = try await Self.introspect(client, jwt)
            #expect(status == .ok)
            #expect(Set(active.keys) == ["active", "sub", "aud", "iss", "exp", "iat", "jti", "sid", "client_id", "token_type"])
            #expect(active["active"] as? Bool == true && active["sid"] as? String == handle && active["client_id"] as? String == "gateway")
            // Rotation moves the session to another handle: the token dies with the old one.
            try await client.execute(uri: "/v1/session/rotate", method: .post, headers: Self.headers(Self.loginKey, token: token)) {
                #expect($0.status == .ok)
            }
            let (_, rotated) = try await Self.introspect(client, jwt)
            #expect(rotated as NSDictionary == ["active": false] as NSDictionary)
            // A purge too.
            let (token2, _) = try await Self.create(client)
            let jwt2 = Self.json(try await Self.exchange(client, token2).body)["access_token"] as! String
            #expect(try await Self.introspect(client, jwt2).1["active"] as? Bool == true)
            try await client.execute(uri: "/v1/users/alice/sessions", method: .delete, headers: Self.headers(Self.loginKey)) { #expect($0.status == .ok) }
            #expect(try await Self.introspect(client, jwt2).1 as NSDictionary == ["active": false] as NSDictionary)
        }
    }

    @Test func introspectionRefusesEveryForgery() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let (token, handle) = try await Self.create(client)
            let now = Int64(Date().timeIntervalSince1970)
            let claims = TokenForge.claims(issuer: Self.issuer, audience: "orders", now: now, sessionHandle: handle)
            #expect(try await Self.introspect(client, self.forge.valid(claims)).1["active"] as? Bool == true)
            for forgery in Forgery.allCases {
                let (status, body) = try await Self.introspect(client, self.forge.forged(forgery, claims: claims))
                #expect(status == .ok)
                #expect(body as NSDictionary == ["active": false] as NSDictionary, "\(forgery)")
            }
            _ = token
        }
    }

    @Test func introspectionErrors() async throws {
        let (app, _) = try self.makeApplication()
        try await app.test(.router) { client in
            let form = ByteBuffer(string: "token=x")
            let formType = "application/x-www-form-urlencoded"
            try await client.execute(uri: "/oauth2/introspect", method: .post, headers: Self.headers(nil, contentType: formType), body: form) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/oauth2/introspect", method: .post, headers: Self.headers(Self.gatewayKey, contentType: formType), body: form) {
                #expect($0.status == .forbidden)
            }
            // RFC 6749 §5.2's shape and codes on /oauth2/*: a JSON body is an invalid request.
            try await client.execute(uri: "/oauth2/introspect", method: .post, headers: Self.headers(Self.checkerKey), body: ByteBuffer(string: #"{"token":"x"}"#)) {
                #expect($0.status == .badRequest && Self.json($0.body)["error"] as? String == "invalid_request")
            }
            for body in ["", "token=", "token=a&token=b", "token=%zz"] {
                try await client.execute(uri: "/oauth2/introspect", method: .post, headers: Self.headers(Self.checkerKey, contentType: formType), body: ByteBuffer(string: body)) {
                    #expect($0.status == .badRequest && Self.json($0.body)["error"] as? String == "invalid_request", "\(body)")
                    #expect(Set(Self.json($0.body).keys) == ["error", "error_description"])
                }
            }
            #expect(try await Self.introspect(client, "not.a.jwt").1 as NSDictionary == ["active": false] as NSDictionary)
        }
    }

    @Test func withoutASigningKeysFileTheTokenRoutesAre404() async throws {
        let (app, _) = try self.makeApplication { $0.tokens.signingKeysFile = "off" }
        try await app.test(.router) { client in
            let (token, _) = try await Self.create(client)
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) {
                #expect($0.status == .notFound && Self.errorCode($0.body) == "tokens_not_configured")
            }
            #expect(try await Self.exchange(client, token).status == .notFound)
            #expect(Self.errorCode(try await Self.exchange(client, token).body) == "tokens_not_configured")
            try await client.execute(uri: "/v1/auth?audience=orders", method: .get, headers: Self.headers(Self.gatewayKey, token: token)) {
                #expect($0.status == .notFound && Self.errorCode($0.body) == "tokens_not_configured")
            }
            #expect(try await Self.introspect(client, "a.b.c").0 == .notFound)
            // Everything else works as before.
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.loginKey, token: token)) { #expect($0.status == .ok) }
        }
    }

    @Test func theKeysFileRulesGiveOneLineReasons() throws {
        let key = PrivateSigningKey.generate(keyID: "a", algorithm: .es256)
        let ed = PrivateSigningKey.generate(keyID: "e", algorithm: .edDSA)
        let cases: [([String], String)] = [
            (["a ES256 2026-01-01T00:00:00Z - a.pem", "a ES256 2026-01-01T00:00:00Z - a.pem"], "duplicate KID"),
            (["a RS256 2026-01-01T00:00:00Z - a.pem"], "ALG must be"),
            (["a ES256 2026-01-01 - a.pem"], "SIGN_FROM"),
            (["a ES256 2026-02-30T00:00:00Z - a.pem"], "SIGN_FROM"),
            (["a ES256 2026-06-01T00:00:00Z 2026-01-01T00:00:00Z a.pem"], "SIGN_UNTIL must be after"),
            (["a ES256 2026-01-01T00:00:00Z - missing.pem"], "cannot read the PEM"),
            (["e ES256 2026-01-01T00:00:00Z - e.pem"], "not a P-256 private key"),
            (["a EdDSA 2026-01-01T00:00:00Z - a.pem"], "not an Ed25519 private key"),
            (["a ES256 2026-01-01T00:00:00Z"], "expected KID"),
            (["bad/kid ES256 2026-01-01T00:00:00Z - a.pem"], "KID is"),
            (["a ES256 2020-01-01T00:00:00Z 2021-01-01T00:00:00Z a.pem"], "signs now"),
            (["# nothing"], "holds no key"),
        ]
        for (lines, reason) in cases {
            let path = try Self.keysFile(lines, keys: [key, ed])
            do {
                _ = try SigningKeyring.load(path: path)
                Issue.record("accepted: \(lines)")
            } catch {
                #expect(error.reason.contains(reason), "\(lines): \(error.reason)")
                #expect(!error.reason.contains("\n") && !error.reason.contains("PRIVATE"))
            }
        }
    }

    @Test func theLatestSignFromInsideItsWindowSignsAndAKIDIsForever() throws {
        let old = PrivateSigningKey.generate(keyID: "old", algorithm: .es256)
        let new = PrivateSigningKey.generate(keyID: "new", algorithm: .edDSA)
        let path = try Self.keysFile(
            ["old ES256 2026-01-01T00:00:00Z - old.pem", "new EdDSA 2026-06-01T00:00:00Z 2027-06-01T00:00:00Z new.pem"], keys: [old, new]
        )
        let ring = SigningKeyring(try SigningKeyring.load(path: path, now: 1_780_000_000))
        #expect(ring.signer(at: 1_780_000_000)?.keyID == "old")  // 2026-05-28: "new" has not started
        #expect(ring.signer(at: SigningKeyring.parseDate("2026-05-31T23:59:59Z")!)?.keyID == "old")
        #expect(ring.signer(at: SigningKeyring.parseDate("2026-06-01T00:00:00Z")!)?.keyID == "new")
        #expect(ring.signer(at: SigningKeyring.parseDate("2027-06-01T00:00:00Z")!)?.keyID == "old")
        // A reload that gives "old" another key is refused and keeps the keys in force.
        let impostor = PrivateSigningKey.generate(keyID: "old", algorithm: .es256)
        let swapped = try Self.keysFile(["old ES256 2026-01-01T00:00:00Z - old.pem"], keys: [impostor])
        #expect(throws: ConfigurationError.self) { try ring.replace(with: SigningKeyring.load(path: swapped)) }
        #expect(ring.signer(at: SigningKeyring.parseDate("2026-05-31T23:59:59Z")!)?.publicKey == old.publicKey)
    }
}
