// Example: a second service ("orders") that knows the signed-in user through SessionMiddleware —
// single sign-on with one cookie. Env: SESSIOND_URL, SESSIOND_API_KEY, ORDERS_LISTEN.
import Foundation
import Hummingbird
import Logging
import SessionClient
import SessionClientHummingbird

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
        router.add(middleware: SessionMiddleware(client: client))
        router.get("healthz") { _, _ in "ok" }
        router.group("orders")
            .add(middleware: RequireSessionMiddleware())
            .get { _, context -> Response in
                let session = context.session!
                let claims = try session.data(as: Claims.self)
                let body = #"{"greeting":"Hello, \#(claims.name)!","user_id":"\#(session.userID)","orders":[{"id":1,"item":"tea"}]}"#
                return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: body)))
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
