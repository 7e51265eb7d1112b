import ArgumentParser
import Foundation
import SessionClient

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes: 0 ok, 1 not found, 2 usage, 3 authentication/authorization, 4 sessiond unavailable.
enum Exit {
    static let ok: Int32 = 0
    static let notFound: Int32 = 1
    static let usage: Int32 = 2
    static let auth: Int32 = 3
    static let unavailable: Int32 = 4
}

struct CommandFailure: Error {
    let code: Int32
    let message: String
}

@main
enum SessionCtlMain {
    static func main() async {
        do {
            var command = try SessionCtl.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("sessionctl: \(failure.message)\n".utf8))
            exit(failure.code)
        } catch {
            let code = SessionCtl.exitCode(for: error)
            if code == .success {
                print(SessionCtl.fullMessage(for: error))
                exit(0)
            }
            FileHandle.standardError.write(Data((SessionCtl.fullMessage(for: error) + "\n").utf8))
            exit(Exit.usage)
        }
    }
}

struct SessionCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessionctl",
        abstract: "Administer sessiond: list, purge and revoke sessions, resolve a token, check health.",
        discussion: """
            The API key comes from SESSIONCTL_API_KEY or --api-key-file, never from a flag value; or use
            OAuth client credentials: --client-id (or SESSIONCTL_CLIENT_ID) with the secret from
            SESSIONCTL_CLIENT_SECRET or --client-secret-file.
            Exit codes: 0 ok, 1 not found, 2 usage, 3 authentication or permission, 4 sessiond unavailable.
            """,
        subcommands: [List.self, Purge.self, Revoke.self, Resolve.self, Health.self, Keys.self]
    )
}

struct GlobalOptions: ParsableArguments {
    @Option(help: "sessiond base URL (or SESSIONCTL_URL; default http://127.0.0.1:8080)") var url: String?
    @Option(help: "file holding the API key (else SESSIONCTL_API_KEY)") var apiKeyFile: String?
    @Option(help: "OAuth client id (an API key's name, or SESSIONCTL_CLIENT_ID): use client credentials instead of the key") var clientId: String?
    @Option(help: "file holding the client secret (else SESSIONCTL_CLIENT_SECRET)") var clientSecretFile: String?
    @Flag(help: "print JSON instead of a table") var json = false

    func makeClient(requireKey: Bool = true) throws -> SessionClient {
        let environment = ProcessInfo.processInfo.environment
        let base = self.url ?? environment["SESSIONCTL_URL"] ?? "http://127.0.0.1:8080"
        let timeouts = SessionClientConfiguration.Timeouts(connect: .seconds(2), request: .seconds(10))
        if let clientID = self.clientId ?? environment["SESSIONCTL_CLIENT_ID"].flatMap({ $0.isEmpty ? nil : $0 }) {
            // Client credentials: the secret only ever goes to /oauth2/token.
            var secret = environment["SESSIONCTL_CLIENT_SECRET"] ?? ""
            if let clientSecretFile {
                guard let text = try? String(contentsOfFile: clientSecretFile, encoding: .utf8) else {
                    throw CommandFailure(code: Exit.usage, message: "cannot read the client secret file \(clientSecretFile)")
                }
                secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard !secret.isEmpty else {
                throw CommandFailure(code: Exit.usage, message: "no client secret: set SESSIONCTL_CLIENT_SECRET or pass --client-secret-file")
            }
            return SessionClient(configuration: .init(baseURL: base, clientID: clientID, clientSecret: secret, timeouts: timeouts))
        }
        var key = environment["SESSIONCTL_API_KEY"] ?? ""
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                throw CommandFailure(code: Exit.usage, message: "cannot read the API key file \(apiKeyFile)")
            }
            key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if requireKey && key.isEmpty {
            throw CommandFailure(code: Exit.usage, message: "no API key: set SESSIONCTL_API_KEY or pass --api-key-file")
        }
        return SessionClient(configuration: .init(baseURL: base, apiKey: key, timeouts: timeouts))
    }
}

/// Runs `body` with a client, mapping failures to exit codes.
func withClient(_ options: GlobalOptions, requireKey: Bool = true, _ body: (SessionClient) async throws -> Void) async throws {
    let client = try options.makeClient(requireKey: requireKey)
    do {
        try await body(client)
        try? await client.shutdown()
    } catch let error as SessionClientError {
        try? await client.shutdown()
        switch error.code {
        case .unauthorized, .forbidden: throw CommandFailure(code: Exit.auth, message: error.message)
        case .notFound: throw CommandFailure(code: Exit.notFound, message: "not found")
        case .invalidRequest: throw CommandFailure(code: Exit.usage, message: error.message)
        default: throw CommandFailure(code: Exit.unavailable, message: "sessiond unavailable: \(error.message)")
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Prints rows under a header; every cell is shown through ``TerminalText/escaped(_:)``.
func printTable(_ header: [String], _ cells: [[String]]) {
    let rows = cells.map { $0.map(TerminalText.escaped) }
    var widths = header.map(\.count)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

func printJSON(_ object: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a user's live sessions, newest first.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "user id") var user: String

    func run() async throws {
        try await withClient(self.options) { client in
            let sessions = try await client.sessions(ofUser: self.user)
            if self.options.json {
                printJSON(["sessions": sessions.compactMap { try? JSONSerialization.jsonObject(with: $0.json) }])
                return
            }
            printTable(
                ["HANDLE", "CREATED", "LAST SEEN", "EXPIRES", "VERSION", "IP", "USER AGENT"],
                sessions.map { [$0.handle, iso($0.createdAt), iso($0.lastSeenAt), iso($0.expiresAt), String($0.version), $0.ip ?? "-", $0.userAgent ?? "-"] }
            )
        }
    }
}

struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Destroy all of a user's sessions.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "user id") var user: String
    @Option(help: "handle of a session to keep") var except: String?

    func run() async throws {
        try await withClient(self.options) { client in
            let destroyed = try await client.purge(user: self.user, except: self.except)
            if self.options.json { printJSON(["destroyed": destroyed]) } else { print("destroyed \(destroyed) session(s)") }
        }
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Destroy one session by its handle.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "session handle (from `list`)") var handle: String

    func run() async throws {
        try await withClient(self.options) { client in
            guard try await client.destroy(handle: self.handle) else {
                throw CommandFailure(code: Exit.notFound, message: "no session with that handle")
            }
            if self.options.json { printJSON(["revoked": self.handle]) } else { print("revoked \(self.handle)") }
        }
    }
}

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resolve a session token read from standard input (never from the command line)."
    )
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw CommandFailure(code: Exit.usage, message: "pipe the token on standard input")
        }
        try await withClient(self.options) { client in
            guard let session = try await client.resolve(token: line) else {
                throw CommandFailure(code: Exit.notFound, message: "no valid session for that token")
            }
            if self.options.json {
                print(String(decoding: session.json, as: UTF8.self))
            } else {
                printTable(
                    ["HANDLE", "USER", "CREATED", "IDLE EXPIRES", "EXPIRES", "VERSION"],
                    [[session.handle, session.userID, iso(session.createdAt), iso(session.idleExpiresAt), iso(session.expiresAt), String(session.version)]]
                )
            }
        }
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that sessiond and its store are ready.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await withClient(self.options, requireKey: false) { client in
            guard try await client.isReady() else {
                throw CommandFailure(code: Exit.unavailable, message: "sessiond is up but its store is unavailable")
            }
            if self.options.json { printJSON(["status": "ready"]) } else { print("ready") }
        }
    }
}
