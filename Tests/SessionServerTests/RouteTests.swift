import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SessionCore
import Testing

@testable import SessionServer

/// Route tests for every row of the v1 contract and every error status, against the in-memory twin.
@Suite struct RouteTests {
    static let writerKey = "writer-key-0123456789-abcdefghijklmnop"
    static let readerKey = "reader-key-0123456789-abcdefghijklmnop"
    static let adminKey = "admin-key-0123456789ab-abcdefghijklmnop"
    static let keys = try! APIKeys(
        parsing: """
            # comment line
            writer sessions:read,sessions:create,sessions:write \(writerKey)
            reader sessions:read \(readerKey)
            admin sessions:admin sha256:\(sha256Hex(adminKey))   # hashed secret
            """
    )

    static func sha256Hex(_ text: String) -> String {
        // Known answer computed with the same primitive the server uses.
        APIKeysTestHelper.hexDigest(text)
    }

    func makeApplication(configure: (inout SessionServiceConfiguration) -> Void = { _ in }) -> some ApplicationProtocol {
        var configuration = SessionServiceConfiguration()
        configure(&configuration)
        let router = SessionApplication.makeRouter(
            configuration: configuration,
            repository: InMemorySessionRepository(),
            apiKeys: Self.keys,
            prometheus: nil
        )
        return Application(router: router)
    }

    static func headers(_ key: String?, token: String? = nil, json: Bool = true, extra: HTTPFields = [:]) -> HTTPFields {
        var fields = extra
        if let key { fields[.authorization] = "Bearer \(key)" }
        if let token { fields[HTTPField.Name("X-Session-Token")!] = token }
        if json { fields[.contentType] = "application/json" }
        return fields
    }

    /// The body as a JSON object (empty when it is not one, which the assertions then catch).
    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    static func errorCode(_ buffer: ByteBuffer) -> String? {
        (json(buffer)["error"] as? [String: Any])?["code"] as? String
    }

    /// Creates a session and returns (token, handle).
    static func create(_ client: some TestClientProtocol, user: String = "alice", body: String? = nil) async throws -> (String, String) {
        let payload = body ?? #"{"user_id":"\#(user)","data":{"role":"admin"},"metadata":{"ip":"10.0.0.1","user_agent":"curl"}}"#
        return try await client.execute(uri: "/v1/sessions", method: .post, headers: headers(writerKey), body: ByteBuffer(string: payload)) { response in
            #expect(response.status == .created)
            let object = json(response.body)
            let token = try #require(object["token"] as? String)
            let session = try #require(object["session"] as? [String: Any])
            return (token, try #require(session["handle"] as? String))
        }
    }

    @Test func createReturnsTokenSessionAndCookie() async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(
                uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey),
                body: ByteBuffer(string: #"{"user_id":"alice","data":{"role":"admin","n":1.50},"idle_timeout":60}"#)
            ) { response in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
                let object = Self.json(response.body)
                let token = try #require(object["token"] as? String)
                #expect(SessionToken(parsing: token) != nil)
                let cookie = try #require(object["set_cookie"] as? String)
                #expect(cookie == "__Host-sid=\(token); Path=/; Secure; HttpOnly; SameSite=Lax")
                let session = try #require(object["session"] as? [String: Any])
                #expect(session["user_id"] as? String == "alice")
                #expect(session["version"] as? Int == 1)
                #expect((session["data"] as? [String: Any])?["role"] as? String == "admin")
                #expect(String(buffer: response.body).contains(#""n":1.50"#))  // numbers are kept verbatim
                let created = try #require(session["created_at"] as? String)
                let idle = try #require(session["idle_expires_at"] as? String)
                #expect(created.hasSuffix("Z") && idle > created)
                #expect(session["metadata"] as? [String: Any] != nil)
                #expect(!String(buffer: response.body).contains("\"token\":\"\(session["handle"] as? String ?? "")"))
            }
        }
    }

    @Test func resolveByHeaderAndByCookieReturnsSessionWithETag() async throws {
        try await self.makeApplication().test(.router) { client in
            let (token, handle) = try await Self.create(client)
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: token, json: false)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] == "\"1\"")
                #expect(Self.json(response.body)["handle"] as? String == handle)
            }
            var cookie = Self.headers(Self.readerKey, json: false)
            cookie[.cookie] = "theme=dark; __Host-sid=\(token); other=1"
            try await client.execute(uri: "/v1/session", method: .get, headers: cookie) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: ["", "not-a-token", String(repeating: "A", count: 47), "../../etc/passwd"])
    func unknownOrMalformedTokensAre404(token: String) async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: token, json: false)) { response in
                #expect(response.status == .notFound)
                #expect(Self.errorCode(response.body) == "session_not_found")
                #expect(!String(buffer: response.body).contains(token) || token.isEmpty)
            }
        }
    }

    @Test func missingOrUnknownKeyIs401AndWrongScopeIs403() async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/session", method: .get, headers: [:]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(Self.errorCode(response.body) == "unauthorized")
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers("nope-nope-nope-nope")) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: [.authorization: "Basic \(Self.readerKey)"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.readerKey), body: ByteBuffer(string: #"{"user_id":"a"}"#)) { response in
                #expect(response.status == .forbidden)
                #expect(Self.errorCode(response.body) == "forbidden")
            }
            try await client.execute(uri: "/v1/users/alice/sessions", method: .get, headers: Self.headers(Self.writerKey)) { response in
                #expect(response.status == .forbidden)
            }
            // The hashed admin key works.
            try await client.execute(uri: "/v1/users/alice/sessions", method: .get, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: [
        ("{", "invalid_request"),
        (#"{"user_id":""}"#, "invalid_request"),
        (#"{"user_id":5}"#, "invalid_request"),
        (#"{"user_id":"a","extra":1}"#, "invalid_request"),
        (#"{"user_id":"a","data":[]}"#, "invalid_request"),
        (#"{"user_id":"a","idle_timeout":"60"}"#, "invalid_request"),
        (#"{"user_id":"a","idle_timeout":1.5}"#, "invalid_request"),
        (#"{"user_id":"a","idle_timeout":1e400}"#, "invalid_request"),
        (#"{"user_id":"a","idle_timeout":0}"#, "invalid_request"),
        (#"{"user_id":"a","absolute_timeout":999999999}"#, "invalid_request"),
        (#"{"user_id":"a","metadata":{"ip":1}}"#, "invalid_request"),
        (#"{"user_id":"a","metadata":{"device":"x"}}"#, "invalid_request"),
        (#"[1]"#, "invalid_request"),
    ])
    func badCreateBodiesAre400(body: String, code: String) async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                #expect(Self.errorCode(response.body) == code)
            }
        }
    }

    @Test func wholeNumbersMayBeWrittenWithAFraction() async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: #"{"user_id":"a","idle_timeout":60.0,"absolute_timeout":3.6e3}"#)) { response in
                #expect(response.status == .created)
                let session = Self.json(response.body)["session"] as? [String: Any]
                #expect((session?["expires_at"] as? String).map { $0 > (session?["created_at"] as? String ?? "") } == true)
            }
        }
    }

    @Test func userIDOfMoreThan256BytesIs400() async throws {
        try await self.makeApplication().test(.router) { client in
            let body = #"{"user_id":"\#(String(repeating: "u", count: 257))"}"#
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func deepJSONIs400() async throws {
        try await self.makeApplication().test(.router) { client in
            let data = String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40)
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: #"{"user_id":"a","data":\#(data)}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("deeper than 32"))
            }
        }
    }

    @Test func oversizedBodyAndDataAre413() async throws {
        try await self.makeApplication().test(.router) { client in
            let big = String(repeating: "x", count: 70 * 1024)
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: #"{"user_id":"a","data":{"x":"\#(big)"}}"#)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(Self.errorCode(response.body) == "payload_too_large")
            }
            let medium = String(repeating: "x", count: 17 * 1024)
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: #"{"user_id":"a","data":{"x":"\#(medium)"}}"#)) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test func nonJSONBodyIs415() async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(
                uri: "/v1/sessions", method: .post,
                headers: [.authorization: "Bearer \(Self.writerKey)", .contentType: "text/plain"],
                body: ByteBuffer(string: #"{"user_id":"a"}"#)
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(Self.errorCode(response.body) == "unsupported_media_type")
            }
        }
    }

    @Test func jsonMediaTypesAreMatchedWithoutCaseAndWithParameters() {
        #expect(SessionRoutes.isJSON(contentType: "application/json"))
        #expect(SessionRoutes.isJSON(contentType: "Application/JSON; charset=utf-8"))
        #expect(SessionRoutes.isJSON(contentType: " application/json ;charset=utf-8"))
        #expect(!SessionRoutes.isJSON(contentType: "application/jsonx"))
        #expect(!SessionRoutes.isJSON(contentType: "text/plain"))
        #expect(!SessionRoutes.isJSON(contentType: nil))
        #expect(!SessionRoutes.isJSON(contentType: "application/merge-patch+json"))
        #expect(SessionRoutes.isJSON(contentType: "application/merge-patch+json", mergePatch: true))
    }

    @Test func patchMergesDataBumpsVersionAndHonoursIfMatch() async throws {
        try await self.makeApplication().test(.router) { client in
            let (token, _) = try await Self.create(client)
            var headers = Self.headers(Self.writerKey, token: token)
            headers[.contentType] = "application/merge-patch+json"
            headers[.ifMatch] = "\"1\""
            try await client.execute(uri: "/v1/session", method: .patch, headers: headers, body: ByteBuffer(string: #"{"role":null,"cart":{"items":2}}"#)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] == "\"2\"")
                let data = try #require(Self.json(response.body)["data"] as? [String: Any])
                #expect(data["role"] == nil)
                #expect((data["cart"] as? [String: Any])?["items"] as? Int == 2)
            }
            // Stale If-Match: 412, nothing changes.
            try await client.execute(uri: "/v1/session", method: .patch, headers: headers, body: ByteBuffer(string: #"{"x":1}"#)) { response in
                #expect(response.status == .preconditionFailed)
                #expect(Self.errorCode(response.body) == "version_mismatch")
            }
            headers[.ifMatch] = "garbage"
            try await client.execute(uri: "/v1/session", method: .patch, headers: headers, body: ByteBuffer(string: #"{"x":1}"#)) { response in
                #expect(response.status == .badRequest)
            }
            headers[.ifMatch] = nil
            try await client.execute(uri: "/v1/session", method: .patch, headers: headers, body: ByteBuffer(string: #"[1]"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/session", method: .patch, headers: headers, body: ByteBuffer(string: #"{"x":"\#(String(repeating: "y", count: 17_000))"}"#)) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: token)) { response in
                #expect(response.headers[.eTag] == "\"2\"")
                #expect((Self.json(response.body)["data"] as? [String: Any])?["x"] == nil)
            }
        }
    }

    /// A patch whose non-null members alone exceed the data limit is refused before the store is
    /// read or anything is merged: 413 even for a token with no session behind it.
    @Test func aPatchThatCannotFitIsRefusedBeforeMerging() async throws {
        try await self.makeApplication().test(.router) { client in
            let members = (0..<2000).map { #""member-\#($0)":"value""# }.joined(separator: ",")
            let unknownToken = SessionToken.generate(for: "nobody").value
            try await client.execute(
                uri: "/v1/session", method: .patch, headers: Self.headers(Self.writerKey, token: unknownToken), body: ByteBuffer(string: "{\(members)}")
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(Self.errorCode(response.body) == "payload_too_large")
            }
            // Deletions cost nothing: a large patch of nulls against a missing session is a plain 404.
            let nulls = (0..<2000).map { #""member-\#($0)":null"# }.joined(separator: ",")
            try await client.execute(
                uri: "/v1/session", method: .patch, headers: Self.headers(Self.writerKey, token: unknownToken), body: ByteBuffer(string: "{\(nulls)}")
            ) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// `sessions:write` without `sessions:create` may update, rotate and log out, never mint a session.
    @Test func createNeedsTheCreateScope() async throws {
        let writeOnly = "write-only-key-0123456789-abcdefghijklmnop"
        let keys = try APIKeys(parsing: "w sessions:read,sessions:write \(writeOnly)\n" + "c sessions:create,sessions:write \(Self.writerKey)")
        let router = SessionApplication.makeRouter(configuration: SessionServiceConfiguration(), repository: InMemorySessionRepository(), apiKeys: keys, prometheus: nil)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(writeOnly), body: ByteBuffer(string: #"{"user_id":"x"}"#)) { response in
                #expect(response.status == .forbidden)
                #expect(Self.errorCode(response.body) == "forbidden")
            }
            let (token, _) = try await Self.create(client)
            try await client.execute(uri: "/v1/session/rotate", method: .post, headers: Self.headers(writeOnly, token: token)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func theClearingCookieMatchesTheSettingOne() async throws {
        let app = self.makeApplication { $0.cookie.name = "__Secure-sid"; $0.cookie.domain = "example.com"; $0.cookie.sameSite = .strict }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/session", method: .delete, headers: Self.headers(Self.writerKey)) { response in
                #expect(Self.json(response.body)["set_cookie"] as? String == "__Secure-sid=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict; Domain=example.com")
            }
        }
    }

    @Test func rotateIssuesANewTokenAndKillsTheOld() async throws {
        try await self.makeApplication().test(.router) { client in
            let (token, _) = try await Self.create(client)
            let newToken = try await client.execute(uri: "/v1/session/rotate", method: .post, headers: Self.headers(Self.writerKey, token: token)) { response in
                #expect(response.status == .ok)
                let object = Self.json(response.body)
                #expect((object["set_cookie"] as? String)?.contains("__Host-sid=") == true)
                return try #require(object["token"] as? String)
            }
            #expect(newToken != token)
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: token)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: newToken)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/session/rotate", method: .post, headers: Self.headers(Self.writerKey, token: token)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func destroyIsIdempotent() async throws {
        try await self.makeApplication().test(.router) { client in
            let (token, _) = try await Self.create(client)
            for expected in [true, false] {
                try await client.execute(uri: "/v1/session", method: .delete, headers: Self.headers(Self.writerKey, token: token)) { response in
                    // 200 with the Set-Cookie value that clears the cookie, whether or not there was a session.
                    #expect(response.status == .ok)
                    #expect(response.headers[.cacheControl] == "no-store")
                    let body = Self.json(response.body)
                    #expect(body["destroyed"] as? Bool == expected)
                    #expect(body["set_cookie"] as? String == "__Host-sid=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
                }
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: token)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func adminListsPurgesAndDestroysByHandle() async throws {
        try await self.makeApplication().test(.router) { client in
            let (first, firstHandle) = try await Self.create(client, user: "carol")
            let (_, secondHandle) = try await Self.create(client, user: "carol")
            let (third, thirdHandle) = try await Self.create(client, user: "carol")
            try await client.execute(uri: "/v1/users/carol/sessions", method: .get, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .ok)
                let sessions = try #require(Self.json(response.body)["sessions"] as? [[String: Any]])
                #expect(sessions.compactMap { $0["handle"] as? String } == [thirdHandle, secondHandle, firstHandle])
                #expect(!String(buffer: response.body).contains(first))
            }
            try await client.execute(uri: "/v1/sessions/\(secondHandle)", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/sessions/\(secondHandle)", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .notFound)
                #expect(Self.errorCode(response.body) == "session_not_found")
            }
            // A token is not a handle.
            try await client.execute(uri: "/v1/sessions/\(first)", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/users/carol/sessions?except=\(thirdHandle)", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["destroyed"] as? Int == 1)
            }
            try await client.execute(uri: "/v1/session", method: .get, headers: Self.headers(Self.readerKey, token: third)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/users/carol/sessions?except=bad", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/users/carol/sessions", method: .delete, headers: Self.headers(Self.adminKey)) { response in
                #expect(Self.json(response.body)["destroyed"] as? Int == 1)
            }
        }
    }

    @Test func percentEncodedUserIDsAreDecoded() async throws {
        try await self.makeApplication().test(.router) { client in
            _ = try await Self.create(client, user: "a b/c@example.com")
            try await client.execute(uri: "/v1/users/a%20b%2Fc%40example.com/sessions", method: .get, headers: Self.headers(Self.adminKey)) { response in
                #expect((Self.json(response.body)["sessions"] as? [Any])?.count == 1)
            }
        }
    }

    @Test func healthReadinessMetricsAndOpenAPIAnswerWithoutAuth() async throws {
        try await self.makeApplication().test(.router) { client in
            for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.cacheControl] == "no-store")
                }
            }
        }
    }

    @Test func unknownRouteIs404AndUnknownMethodIs405() async throws {
        try await self.makeApplication().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Self.errorCode(response.body) == "not_found")
            }
            try await client.execute(uri: "/healthz", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
                #expect(Self.errorCode(response.body) == "method_not_allowed")
            }
            try await client.execute(uri: "/v1/users/x/sessions", method: .put, headers: Self.headers(Self.adminKey)) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, DELETE")
            }
        }
    }

    @Test func cookieConfigurationShapesSetCookie() async throws {
        let app = self.makeApplication {
            $0.cookie.name = "__Secure-sid"
            $0.cookie.domain = "example.com"
            $0.cookie.isPersistent = true
            $0.cookie.sameSite = .strict
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/sessions", method: .post, headers: Self.headers(Self.writerKey), body: ByteBuffer(string: #"{"user_id":"a","absolute_timeout":3600}"#)) { response in
                let cookie = try #require(Self.json(response.body)["set_cookie"] as? String)
                #expect(cookie.hasPrefix("__Secure-sid="))
                #expect(cookie.hasSuffix("; Path=/; Secure; HttpOnly; SameSite=Strict; Domain=example.com; Max-Age=3600"))
            }
        }
    }

    @Test func hostPrefixWithDomainIsRefusedAtStart() {
        var configuration = SessionServiceConfiguration()
        configuration.cookie.domain = "example.com"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.cookie.name = "__Secure-sid"
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.keyPrefix = "bad{prefix"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test func openAPIDocumentListsEveryRoute() async throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        // Every route the router serves, from the router itself (":name" is OpenAPI's "{name}").
        let router = SessionApplication.makeRouter(
            configuration: SessionServiceConfiguration(), repository: InMemorySessionRepository(), apiKeys: Self.keys, prometheus: nil
        )
        let expected: [(String, String)] = router.routes.map { route in
            let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return (path.hasPrefix("/") ? path : "/" + path, route.method.rawValue.lowercased())
        }
        #expect(expected.count >= 16)
        for (path, method) in expected {
            #expect(paths[path]?[method] != nil, "\(method) \(path) is missing from the OpenAPI document")
        }
        let documented = paths.reduce(0) { $0 + $1.value.keys.filter { $0 != "parameters" }.count }
        #expect(documented == expected.count)
        // The repository copy and the served copy are the same document.
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
        #expect(try String(contentsOf: file, encoding: .utf8) == OpenAPIDocument.json + "\n")
    }
}
