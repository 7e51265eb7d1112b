import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import SessionClient
import SessionClientHummingbird
import SessionServer
import SessionTokens
import Testing

/// The client side of access tokens against a live sessiond over the test Redis: exchange, the
/// verifier fed by sessiond's JWKS, introspection, and the middleware that takes either credential.
@Suite struct TokenClientTests {
    static let issuer = "https://sessiond.client-test"

    static func keyring() throws -> SigningKeyring {
        let key = PrivateSigningKey.generate(keyID: "client-k1", algorithm: .edDSA)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try key.pkcs8PEM.write(toFile: directory + "/k.pem", atomically: true, encoding: .utf8)
        try "client-k1 EdDSA 2026-01-01T00:00:00Z - k.pem\n".write(toFile: directory + "/keys", atomically: true, encoding: .utf8)
        return SigningKeyring(try SigningKeyring.load(path: directory + "/keys"))
    }

    /// A live sessiond with tokens on; `body` gets its URL.
    static func runServer(_ body: @Sendable @escaping (String) async throws -> Void) async throws {
        try await LiveSessiond.run(
            configure: { configuration in
                configuration.tokens.issuer = issuer
                configuration.tokens.audiences = ["orders"]
            },
            signingKeys: try keyring()
        ) { url in try await body(url) }
    }

    /// Revokes the token in `authorization` ("Bearer <jwt>") as the admin client.
    static func revoke(url: String, authorization: String) async throws {
        let token = String(authorization.dropFirst("Bearer ".count))
        var request = URLRequest(url: URL(string: url + "/oauth2/revoke")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(LiveSessiond.adminKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(("token=" + token).utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }

    static func run(_ body: @Sendable @escaping (SessionClient) async throws -> Void) async throws {
        try await LiveSessiond.run(
            configure: { configuration in
                configuration.tokens.issuer = issuer
                configuration.tokens.audiences = ["orders"]
                configuration.tokens.claims = ["name"]
            },
            signingKeys: try keyring()
        ) { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                try await body(client)
            }
        }
    }

    static func makeApp(verifier: TokenVerifier, client: SessionClient) -> some ApplicationProtocol {
        let router = Router(context: BasicSessionRequestContext.self)
        router.add(middleware: SessionOrTokenMiddleware(verifier: verifier, client: client))
        router.group("private").add(middleware: RequireSessionMiddleware()).get { _, context in
            "\(context.userID ?? "?") via \(context.credential == .accessToken ? "token" : "cookie")"
        }
        return Application(router: router)
    }

    @Test func anExchangedTokenVerifiesLocallyAndDiesWithItsSessionAtIntrospection() async throws {
        try await Self.run { client in
            let issued = try await client.create(userID: "alice", data: ["name": "Alice"])
            let token = try #require(try await client.exchange(token: issued.token, audience: "orders", ttl: .seconds(120)))
            #expect(token.expiresIn == 120)
            #expect(!"\(token)".contains(token.value))
            let verifier = client.makeTokenVerifier(issuer: Self.issuer, audiences: ["orders"])
            let verified = try #require(try await verifier.verify(token.value))
            #expect(verified.subject == "alice" && verified.stringClaim("name") == "Alice" && verified.sessionHandle == issued.session.handle)
            // Another audience's verifier refuses it.
            #expect(try await client.makeTokenVerifier(issuer: Self.issuer, audiences: ["billing"]).verify(token.value) == nil)
            #expect(try await client.isActive(token.value))
            let strict = client.makeTokenVerifier(issuer: Self.issuer, audiences: ["orders"], introspect: true)
            #expect(try await strict.verify(token.value) != nil)
            try await client.destroy(token: issued.token)
            #expect(try await client.isActive(token.value) == false)
            #expect(try await strict.verify(token.value) == nil)
            // The local check trusts the signature until exp: the documented window.
            #expect(try await verifier.verify(token.value) != nil)
            #expect(try await client.exchange(token: issued.token, audience: "orders") == nil)
        }
    }

    @Test func theMiddlewareTakesEitherCredentialAndNeverFallsBack() async throws {
        try await Self.run { client in
            let issued = try await client.create(userID: "bob", data: ["name": "Bob"])
            let token = try #require(try await client.exchange(token: issued.token, audience: "orders"))
            let verifier = client.makeTokenVerifier(issuer: Self.issuer, audiences: ["orders"])
            try await Self.makeApp(verifier: verifier, client: client).test(.router) { app in
                try await app.execute(uri: "/private", method: .get, headers: [.authorization: "Bearer \(token.value)"]) { response in
                    #expect(response.status == .ok && String(buffer: response.body) == "bob via token")
                }
                try await app.execute(uri: "/private", method: .get, headers: [.cookie: "__Host-sid=\(issued.token)"]) { response in
                    #expect(response.status == .ok && String(buffer: response.body) == "bob via cookie")
                }
                // An invalid Bearer token is 401 even with a valid cookie beside it.
                var tampered = token.value
                tampered.removeLast()
                tampered.append(token.value.last == "A" ? "B" : "A")
                let headers: HTTPFields = [.authorization: "Bearer \(tampered)", .cookie: "__Host-sid=\(issued.token)"]
                try await app.execute(uri: "/private", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized && String(buffer: response.body).contains("invalid_token"))
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
                try await app.execute(uri: "/private", method: .get, headers: [.authorization: "Basic Ym9iOmJvYg=="]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
        }
    }

    @Test func aVerifierThatNeverGotKeysFailsClosed() async throws {
        try await SessionClient.withSessionClient(configuration: .init(baseURL: "http://127.0.0.1:6458", apiKey: "k")) { client in
            let verifier = client.makeTokenVerifier(issuer: Self.issuer, audiences: ["orders"])
            await #expect(throws: TokenVerifierError.noKeySet) { try await verifier.verify("a.b.c") }
            try await Self.makeApp(verifier: verifier, client: client).test(.router) { app in
                try await app.execute(uri: "/private", method: .get, headers: [.authorization: "Bearer a.b.c"]) { response in
                    #expect(response.status == .serviceUnavailable)
                }
            }
        }
    }
}

/// `SessionClient` with OAuth client credentials against a live sessiond.
@Suite struct ClientCredentialsTests {
    @Test func theClientFetchesUsesAndRenewsItsTokenAndNeverShowsTheSecret() async throws {
        try await TokenClientTests.runServer { url in
            let configuration = SessionClientConfiguration(
                baseURL: url, clientID: "admin", clientSecret: LiveSessiond.adminKey, scope: "sessions:read sessions:create sessions:admin"
            )
            #expect(!"\(configuration)".contains(LiveSessiond.adminKey) && !String(reflecting: configuration).contains(LiveSessiond.adminKey))
            try await SessionClient.withSessionClient(configuration: configuration) { client in
                let issued = try await client.create(userID: "cc-user")       // AsyncHTTPClient path
                #expect(try await client.resolve(token: issued.token)?.userID == "cc-user")  // the resolve transport
                // Revoke the client's current token behind its back (as an admin would): the next
                // request gets 401, and the client fetches a new token once and succeeds.
                try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { admin in
                    let sessions = try await admin.sessions(ofUser: "cc-user")
                    #expect(sessions.count == 1)
                }
                let before = try await client.currentAuthorization()
                try await TokenClientTests.revoke(url: url, authorization: before)
                #expect(try await client.resolve(token: issued.token)?.userID == "cc-user")
                let after = try await client.currentAuthorization()
                #expect(after != before)
                #expect(try await client.sessions(ofUser: "cc-user").count == 1)
            }
            // The middleware resolves cookies through a client-credentials client like through a keyed one.
            let cc = SessionClientConfiguration(baseURL: url, clientID: "admin", clientSecret: LiveSessiond.adminKey, scope: "sessions:read")
            try await SessionClient.withSessionClient(configuration: cc) { client in
                let issued = try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) {
                    try await $0.create(userID: "cc-middleware")
                }
                try await MiddlewareTests.makeApp(client: client).test(.router) { app in
                    try await app.execute(uri: "/private", method: .get, headers: [.cookie: "__Host-sid=\(issued.token)"]) { response in
                        #expect(response.status == .ok && String(buffer: response.body) == "hello cc-middleware")
                    }
                }
            }
            // Wrong secret: a clear unauthorized error, never a crash or a secret in the message.
            let wrong = SessionClientConfiguration(baseURL: url, clientID: "admin", clientSecret: "not-the-secret-0123456789-abcdefghijklmn")
            try await SessionClient.withSessionClient(configuration: wrong) { client in
                do {
                    _ = try await client.resolve(token: String(repeating: "A", count: 47))
                    Issue.record("resolved without valid credentials")
                } catch let error as SessionClientError {
                    #expect(error.code == .unauthorized)
                    #expect(!error.description.contains("not-the-secret"))
                }
            }
        }
    }
}
