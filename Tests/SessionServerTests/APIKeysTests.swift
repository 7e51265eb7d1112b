import Foundation
import Crypto
import Testing

@testable import SessionServer

enum APIKeysTestHelper {
    static func hexDigest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

@Suite struct APIKeysTests {
    @Test func parsesNamesScopesAndHashedSecrets() throws {
        let keys = try APIKeys(parsing: "a sessions:read,sessions:admin plain-secret-0123456789\nb sessions:write sha256:\(APIKeysTestHelper.hexDigest("hashed-secret-012345"))\n")
        #expect(keys.authenticate("plain-secret-0123456789")?.scopes == [.read, .admin])
        #expect(keys.authenticate("hashed-secret-012345")?.name == "b")
        #expect(keys.authenticate("plain-secret-012345678") == nil)
        #expect(keys.authenticate("") == nil)
    }

    @Test(arguments: [
        "a sessions:read", "a sessions:root secret-0123456789abc", "a sessions:read sha256:abc",
        "a sessions:read short", "a sessions:read secret-0123456789abc\na sessions:read secret-0123456789abd",
    ])
    func malformedFilesAreRefused(text: String) {
        #expect(throws: ConfigurationError.self) { try APIKeys(parsing: text) }
    }

    @Test func errorsNeverEchoTheSecret() {
        do {
            _ = try APIKeys(parsing: "a sessions:bogus my-very-secret-value-123")
        } catch {
            #expect(!error.description.contains("my-very-secret"))
        }
    }
}
