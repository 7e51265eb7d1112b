import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import SessionServer

/// sessiond running in-process on a real port (`.live`), over the real test Redis.
enum LiveSessiond {
    static let adminKey = "client-admin-0123456789-abcdefghijklmnop"
    static let readerKey = "client-reader-0123456789-abcdefghijklmnop"

    /// Runs `body` with the base URL of a live sessiond.
    static func run<T: Sendable>(
        configure: (inout SessionServiceConfiguration) -> Void = { _ in },
        signingKeys: SigningKeyring? = nil,
        _ body: @Sendable (String) async throws -> T
    ) async throws -> T {
        let redis = try TestRedis.client()
        let repository = RedisSessionRepository(
            redis: redis,
            layout: KeyLayout(prefix: "client-test-\(UUID().uuidString.prefix(8)):"),
            policy: StorePolicy(touchInterval: 0),
            logger: Logger(label: "test")
        )
        let keys = try APIKeys(parsing: "admin sessions:read,sessions:create,sessions:write,sessions:admin,tokens:issue,tokens:introspect \(adminKey)\nreader sessions:read \(readerKey)")
        var configuration = SessionServiceConfiguration()
        configuration.port = 0
        configure(&configuration)
        // The whole server as sessiond runs it: fast path, connection handlers and router.
        let app = SessionApplication.makeApplication(
            configuration: configuration,
            repository: repository,
            apiKeys: keys,
            prometheus: nil,
            redis: nil,
            signingKeys: signingKeys,
            logger: Logger(label: "test")
        )
        let result = try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
        await redis.shutdown()
        return result
    }

    /// The root of the package (to find built executables).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
