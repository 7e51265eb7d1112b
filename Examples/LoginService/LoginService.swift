// Example: the login service. Checks a demo user's password, creates the session in sessiond,
// hands the browser the cookie, and logs out. It authenticates to sessiond with OAuth 2.0 client
// credentials (the long-lived secret goes only to /oauth2/token; requests carry a short-lived token)
// when LOGIN_CLIENT_ID and LOGIN_CLIENT_SECRET are set, else with the static SESSIOND_API_KEY.
// Env: SESSIOND_URL, LOGIN_CLIENT_ID, LOGIN_CLIENT_SECRET, SESSIOND_API_KEY, LOGIN_LISTEN.
import Foundation
import Hummingbird
import Logging
import SessionClient

@main
struct LoginService {
    /// Demo accounts: user id → (password, display name, roles). A real service checks a user store.
    static let users: [String: (password: String, name: String, roles: [String])] = [
        "alice": ("wonderland", "Alice", ["customer", "admin"]),
        "bob": ("builder", "Bob", ["customer"]),
    ]

    struct Credentials: Decodable {
        let username: String
        let password: String
    }

    struct Claims: Codable {
        let name: String
        let roles: [String]
    }

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let listen = environment["LOGIN_LISTEN"] ?? "127.0.0.1:8081"
        let parts = listen.split(separator: ":")
        let baseURL = environment["SESSIOND_URL"] ?? "http://127.0.0.1:8080"
        let configuration: SessionClientConfiguration
        if let clientID = environment["LOGIN_CLIENT_ID"], let secret = environment["LOGIN_CLIENT_SECRET"], !clientID.isEmpty {
            configuration = .init(baseURL: baseURL, clientID: clientID, clientSecret: secret, scope: "sessions:create sessions:write")
        } else {
            configuration = .init(baseURL: baseURL, apiKey: environment["SESSIOND_API_KEY"] ?? "")
        }
        let client = SessionClient(configuration: configuration)
        let router = Router()
        router.post("login") { request, context -> Response in
            // JSON only: a cross-site HTML form can post urlencoded, multipart or text/plain bodies
            // (and text/plain can be shaped like JSON), but never application/json without a CORS
            // preflight. Refusing everything else closes the login-CSRF door.
            let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard mediaType == "application/json" else {
                return Self.json(.unsupportedMediaType, #"{"error":{"code":"unsupported_media_type","message":"send credentials as application/json"}}"#)
            }
            guard let credentials = try? await request.decode(as: Credentials.self, context: context) else {
                return Self.json(.badRequest, #"{"error":{"code":"invalid_request","message":"expected {\"username\",\"password\"}"}}"#)
            }
            guard let user = Self.users[credentials.username], user.password == credentials.password else {
                return Self.json(.unauthorized, #"{"error":{"code":"invalid_credentials","message":"wrong user name or password"}}"#)
            }
            let issued: IssuedSession
            do {
                issued = try await client.create(
                    userID: credentials.username,
                    data: Claims(name: user.name, roles: user.roles),
                    ip: request.headers[.init("X-Forwarded-For")!],
                    userAgent: request.headers[.userAgent]
                )
            } catch {
                return Self.json(.serviceUnavailable, #"{"error":{"code":"session_unavailable","message":"try again shortly"}}"#)
            }
            var response = Self.json(.ok, #"{"user":"\#(credentials.username)","handle":"\#(issued.session.handle)"}"#)
            response.headers[.setCookie] = issued.setCookie
            return response
        }
        router.post("logout") { request, _ -> Response in
            let cookies = request.headers[values: .cookie].joined(separator: "; ")
            guard let token = SessionClient.cookieValue(named: client.configuration.cookieName, in: cookies) else {
                return Response(status: .noContent)  // nothing to log out
            }
            let clearCookie: String
            do {
                clearCookie = try await client.destroy(token: token)
            } catch {
                // The session may still be valid: say so, and keep the cookie so that the user can retry.
                return Self.json(.serviceUnavailable, #"{"error":{"code":"logout_failed","message":"could not log out; try again"}}"#)
            }
            var response = Response(status: .noContent)
            response.headers[.setCookie] = clearCookie
            return response
        }
        router.get("healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(String(parts[0]), port: Int(parts[1]) ?? 8081), serverName: nil),
            logger: Logger(label: "login-service")
        )
        try await app.runService()
        try await client.shutdown()
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
