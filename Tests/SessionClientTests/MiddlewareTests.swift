import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SessionClient
import SessionClientHummingbird
import Testing

@Suite struct MiddlewareTests {
    static func makeApp(client: SessionClient) -> some ApplicationProtocol {
        let router = Router(context: BasicSessionRequestContext.self)
        router.add(middleware: SessionMiddleware(client: client))
        router.get("public") { _, context in context.session?.userID ?? "anonymous" }
        router.group("private").add(middleware: RequireSessionMiddleware()).get { _, context in
            "hello \(context.session!.userID)"
        }
        return Application(router: router)
    }

    @Test func sessionIsResolvedOncePerRequestAndRequiredWhereAsked() async throws {
        try await LiveSessiond.run { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                let issued = try await client.create(userID: "mallory")
                try await Self.makeApp(client: client).test(.router) { app in
                    try await app.execute(uri: "/private", method: .get, headers: [.cookie: "__Host-sid=\(issued.token)"]) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body) == "hello mallory")
                    }
                    try await app.execute(uri: "/private", method: .get) { response in
                        #expect(response.status == .unauthorized)
                        #expect(String(buffer: response.body).contains("not_signed_in"))
                        #expect(response.headers[.contentType] == "application/json")
                    }
                    try await app.execute(uri: "/private", method: .get, headers: [.cookie: "__Host-sid=\(String(repeating: "Z", count: 47))"]) { response in
                        #expect(response.status == .unauthorized)
                    }
                    try await app.execute(uri: "/public", method: .get, headers: [.cookie: "__Host-sid=\(issued.token)"]) { response in
                        #expect(String(buffer: response.body) == "mallory")
                    }
                    try await app.execute(uri: "/public", method: .get) { response in
                        #expect(String(buffer: response.body) == "anonymous")
                    }
                    // Logged out elsewhere: the next request is no longer signed in.
                    try await client.destroy(token: issued.token)
                    try await app.execute(uri: "/private", method: .get, headers: [.cookie: "__Host-sid=\(issued.token)"]) { response in
                        #expect(response.status == .unauthorized)
                    }
                }
            }
        }
    }

    @Test func unreachableSessiondFailsClosedWith503() async throws {
        try await SessionClient.withSessionClient(configuration: .init(baseURL: "http://127.0.0.1:6458", apiKey: "k")) { client in
            try await Self.makeApp(client: client).test(.router) { app in
                for path in ["/private", "/public"] {
                    try await app.execute(uri: path, method: .get, headers: [.cookie: "__Host-sid=\(String(repeating: "Q", count: 47))"]) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(String(buffer: response.body).contains("session_unavailable"))
                    }
                }
            }
        }
    }
}
