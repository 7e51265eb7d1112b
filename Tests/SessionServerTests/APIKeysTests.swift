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
    static let secretA = "plain-secret-0123456789-abcdefghijk"
    static let secretB = "hashed-secret-012345-abcdefghijklmno"

    @Test func parsesNamesScopesAndHashedSecrets() throws {
        let keys = try APIKeys(parsing: "a sessions:read,sessions:admin \(Self.secretA)\nb sessions:write,sessions:create sha256:\(APIKeysTestHelper.hexDigest(Self.secretB))\n")
        #expect(keys.authenticate(Self.secretA)?.scopes == [.read, .admin])
        #expect(keys.authenticate(Self.secretB)?.name == "b")
        #expect(keys.authenticate(Self.secretB)?.scopes == [.write, .create])
        #expect(keys.authenticate(String(Self.secretA.dropLast())) == nil)
        #expect(keys.authenticate("") == nil)
    }

    @Test(arguments: [
        "a sessions:read",
        "a sessions:root secret-0123456789abc-0123456789abcdefgh",
        "a sessions:read sha256:abc",
        "a sessions:read secret-0123456789abc-0123456789abcdefgh\na sessions:read secret-0123456789abd-0123456789abcdefgh",
    ])
    func malformedFilesAreRefused(text: String) {
        #expect(throws: ConfigurationError.self) { try APIKeys(parsing: text) }
    }

    @Test func secretsShorterThan32CharactersAreRefused() throws {
        let thirtyOne = String(repeating: "k", count: 31)
        #expect { try APIKeys(parsing: "a sessions:read \(thirtyOne)") } throws: { error in
            "\(error)".contains("at least 32 characters") && !"\(error)".contains(thirtyOne)
        }
        #expect(try APIKeys(parsing: "a sessions:read \(thirtyOne)x").count == 1)
    }

    @Test func oneSecretUnderTwoNamesIsRefused() {
        #expect {
            try APIKeys(parsing: "a sessions:read \(Self.secretA)\nb sessions:admin \(Self.secretA)")
        } throws: { error in
            "\(error)".contains("already used by key 'a'") && !"\(error)".contains(Self.secretA)
        }
        // Also when one of the two is written hashed.
        #expect(throws: ConfigurationError.self) {
            try APIKeys(parsing: "a sessions:read \(Self.secretA)\nb sessions:admin sha256:\(APIKeysTestHelper.hexDigest(Self.secretA))")
        }
    }

    @Test func aHashInsideASecretIsPartOfTheSecret() throws {
        let secret = "abc#def-0123456789-0123456789-xyz"
        let keys = try APIKeys(parsing: "a sessions:read \(secret)   # a comment after a space\n  # an indented comment line")
        #expect(keys.authenticate(secret)?.name == "a")
        #expect(keys.authenticate("abc") == nil)
        // "abc" alone (what a cut at '#' would have kept) is too short and never accepted.
        #expect(keys.count == 1)
    }

    /// Every secret in the shipped example file (and the v1 ones) is refused: whoever reads the
    /// repository knows them.
    @Test func secretsPublishedInTheRepositoryAreRefused() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/api-keys.example")
        let text = try String(contentsOf: example, encoding: .utf8)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.count >= 3)
        for line in lines {
            #expect { try APIKeys(parsing: String(line)) } throws: { error in "\(error)".contains("published") }
            let secret = String(line.split(separator: " ").last!)
            #expect(PublishedSecrets.contains(digest: Array(SHA256.hash(data: Array(secret.utf8)))), "\(line) is not on the published list")
        }
        for v1 in ["change-me-login-0123456789", "change-me-orders-0123456789", "change-me-admin-0123456789"] {
            #expect(PublishedSecrets.contains(digest: Array(SHA256.hash(data: Array(v1.utf8)))))
        }
        // A published secret given hashed is refused too.
        let hashed = APIKeysTestHelper.hexDigest("change-me-login-use-openssl-rand-base64-32")
        #expect(throws: ConfigurationError.self) { try APIKeys(parsing: "login sessions:read sha256:\(hashed)") }
    }

    @Test func replacingSwapsEveryKeyAtOnce() throws {
        let keys = try APIKeys(parsing: "a sessions:read \(Self.secretA)")
        keys.replace(with: try APIKeys(parsing: "b sessions:admin \(Self.secretB)"))
        #expect(keys.authenticate(Self.secretA) == nil)
        #expect(keys.authenticate(Self.secretB)?.name == "b")
    }

    @Test func errorsNeverEchoTheSecret() {
        do {
            _ = try APIKeys(parsing: "a sessions:bogus my-very-secret-value-123-0123456789abcdef")
        } catch {
            #expect(!error.description.contains("my-very-secret"))
        }
    }
}
