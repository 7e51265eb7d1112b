// Example: a second service ("orders") that knows the signed-in user — single sign-on with one cookie.
// Directly: SessionMiddleware resolves the cookie through sessiond on each request.
// Behind a gateway (TOKEN_ISSUER set): the gateway turns the cookie into a short-lived JWT
// (sessiond's /v1/auth); SessionOrTokenMiddleware verifies it locally with TokenVerifier, with no
// call to sessiond per request (only the JWKS, fetched once per max-age).
// Env: SESSIOND_URL, SESSIOND_API_KEY, ORDERS_LISTEN, TOKEN_ISSUER, TOKEN_AUDIENCE (default orders).
import Foundation
import Hummingbird
import Logging
import SessionClient
import SessionClientHummingbird
import SessionTokens

@main
struct OrdersService {
    struct Claims: Decodable {
        let name: String
        let roles: [String]
    }

    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        let listen = environment["ORDERS_LISTEN"] ?? "127.0.0.1:8082"
        let parts = listen.split(separator: ":")
        let client = SessionClient(
            configuration: .init(
                baseURL: environment["SESSIOND_URL"] ?? "http://127.0.0.1:8080",
                apiKey: environment["SESSIOND_API_KEY"] ?? ""
            )
        )
        let router = Router(context: BasicSessionRequestContext.self)
        if let issuer = environment["TOKEN_ISSUER"], !issuer.isEmpty {
            let verifier = client.makeTokenVerifier(issuer: issuer, audiences: [environment["TOKEN_AUDIENCE"] ?? "orders"])
            router.add(middleware: SessionOrTokenMiddleware(verifier: verifier, client: client))
        } else {
            router.add(middleware: SessionMiddleware(client: client))
        }
        router.get("healthz") { _, _ in "ok" }
        router.group("orders")
            .add(middleware: RequireSessionMiddleware())
            .get { _, context -> Response in
                let name: String
                if let token = context.accessToken {
                    // sessiond copies the data members named by --token-claims (here: name) into the token.
                    name = token.stringClaim("name") ?? token.subject
                } else {
                    name = try context.session!.data(as: Claims.self).name
                }
                let reply: [String: Any] = [
                    "greeting": "Hello, \(name)!",
                    "user_id": context.userID ?? "",
                    "via": context.credential == .accessToken ? "access_token" : "session_cookie",
                    "orders": [["id": 1, "item": "tea"]],
                ]
                let body = try JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])
                return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(String(parts[0]), port: Int(parts[1]) ?? 8082), serverName: nil),
            logger: Logger(label: "orders-service")
        )
        try await app.runService()
        try await client.shutdown()
    }
}
