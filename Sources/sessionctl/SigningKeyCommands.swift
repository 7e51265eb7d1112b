import ArgumentParser
import Foundation
import SessionTokens

/// `sessionctl keys generate`: a new signing key (PKCS#8 PEM, mode 600) and its keys-file line.
/// Offline: it talks to no sessiond, and the private key goes only to the file.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Signing keys for access tokens.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new private key (PKCS#8 PEM, mode 600) and print its line for the signing keys file.",
            discussion: """
                Give SIGN_FROM at least the JWKS max-age (default 300 s) of notice, so that every verifier
                has the public key before the first token it signs. Example:
                  sessionctl keys generate --kid k2027a --sign-from 2027-01-01T00:00:00Z --directory /etc/sessiond/keys >> /etc/sessiond/keys/signing-keys
                """
        )

        @Option(help: "key id: 1-64 characters of A-Z a-z 0-9 . - _") var kid: String
        @Option(help: "ES256 (default) or EdDSA") var alg: String = "ES256"
        @Option(help: "UTC time it starts signing, e.g. 2027-01-01T00:00:00Z (default: now)") var signFrom: String?
        @Option(help: "UTC time it stops signing, or - (default)") var signUntil: String = "-"
        @Option(help: "directory to write <kid>.pem into (default: current)") var directory: String = "."

        func run() throws {
            guard let algorithm = JWSAlgorithm(rawValue: self.alg) else {
                throw CommandFailure(code: Exit.usage, message: "--alg must be ES256 or EdDSA")
            }
            guard PrivateSigningKey.isValidKeyID(self.kid) else { throw CommandFailure(code: Exit.usage, message: "--kid must be 1-64 characters of A-Z a-z 0-9 . - _") }
            let formatter = ISO8601DateFormatter()
            let from = self.signFrom ?? formatter.string(from: Date())
            guard formatter.date(from: from) != nil, self.signUntil == "-" || formatter.date(from: self.signUntil) != nil else {
                throw CommandFailure(code: Exit.usage, message: "times must look like 2027-01-01T00:00:00Z")
            }
            let path = (self.directory as NSString).appendingPathComponent("\(self.kid).pem")
            guard !FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure(code: Exit.usage, message: "\(path) exists; a KID names one key forever")
            }
            let key = PrivateSigningKey.generate(keyID: self.kid, algorithm: algorithm)
            // Created with mode 600 before any key byte is written.
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: path)
            else { throw CommandFailure(code: Exit.usage, message: "cannot write \(path)") }
            handle.write(Data(key.pkcs8PEM.utf8))
            try handle.close()
            print("\(self.kid) \(algorithm.rawValue) \(from) \(self.signUntil) \(self.kid).pem")
        }
    }
}
