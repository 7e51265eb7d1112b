import Foundation
import RedisTestSupport
import SessionClient
import SessionServer
import SessionTokens
import Testing

/// `sessionctl` end to end: the built binary, spawned, against a live sessiond.
@Suite struct SessionCtlTests {
    static var binary: String { LiveSessiond.packageRoot.appendingPathComponent(".build/debug/sessionctl").path }

    func run(_ arguments: [String], url: String, key: String? = LiveSessiond.adminKey, stdin: String = "") async -> (status: Int32, output: String, error: String) {
        var environment = ["SESSIONCTL_URL": url]
        environment["SESSIONCTL_API_KEY"] = key ?? ""
        return await runProgram([Self.binary] + arguments, standardInput: stdin, environment: environment)
    }

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build sessionctl first (swift build)")
    }

    @Test func keysGenerateWritesAPrivateKeyAndALineSessiondLoads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var lines = ""
        for (kid, alg) in [("ctl-a", "ES256"), ("ctl-b", "EdDSA")] {
            let result = await runProgram(
                [Self.binary, "keys", "generate", "--kid", kid, "--alg", alg, "--sign-from", "2026-01-01T00:00:00Z", "--directory", directory],
                standardInput: "", environment: [:]
            )
            #expect(result.status == 0, "\(result.error)")
            #expect(!result.output.contains("PRIVATE"))
            lines += result.output
            let mode = try FileManager.default.attributesOfItem(atPath: directory + "/\(kid).pem")[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
        }
        try lines.write(toFile: directory + "/keys", atomically: true, encoding: .utf8)
        let entries = try SigningKeyring.load(path: directory + "/keys")
        #expect(entries.map(\.key.keyID) == ["ctl-a", "ctl-b"])
        // A KID is one key forever: generating it again is refused.
        let again = await runProgram([Self.binary, "keys", "generate", "--kid", "ctl-a", "--directory", directory], standardInput: "", environment: [:])
        #expect(again.status == 2)
    }

    @Test func clientCredentialsWorkInsteadOfTheKey() async throws {
        try await TokenClientTests.runServer { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                _ = try await client.create(userID: "ctl-cc-user")
            }
            let environment = ["SESSIONCTL_URL": url, "SESSIONCTL_CLIENT_SECRET": LiveSessiond.adminKey]
            let list = await runProgram([Self.binary, "list", "--client-id", "admin", "--user", "ctl-cc-user"], standardInput: "", environment: environment)
            #expect(list.status == 0, "\(list.error)")
            #expect(list.output.hasPrefix("HANDLE"))
            // A wrong secret is an authentication failure (exit 3), and no secret appears anywhere.
            let wrong = await runProgram(
                [Self.binary, "list", "--client-id", "admin", "--user", "ctl-cc-user"], standardInput: "",
                environment: ["SESSIONCTL_URL": url, "SESSIONCTL_CLIENT_SECRET": "wrong-secret-0123456789-abcdefghijklmn"]
            )
            #expect(wrong.status == 3)
            #expect(!wrong.error.contains("wrong-secret") && !wrong.output.contains("wrong-secret"))
        }
    }

    @Test func listPurgeRevokeResolveAndHealthWithExitCodes() async throws {
        try await LiveSessiond.run { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                let first = try await client.create(userID: "ctl-user", ip: "192.0.2.1")
                let second = try await client.create(userID: "ctl-user")
                let third = try await client.create(userID: "ctl-user")

                let health = await self.run(["health"], url: url)
                #expect(health.status == 0)
                #expect(health.output.contains("ready"))

                let list = await self.run(["list", "--user", "ctl-user"], url: url)
                #expect(list.status == 0)
                #expect(list.output.hasPrefix("HANDLE"))
                #expect(list.output.contains(first.session.handle) && list.output.contains("192.0.2.1"))
                #expect(!list.output.contains(first.token))

                let json = await self.run(["list", "--user", "ctl-user", "--json"], url: url)
                let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
                #expect((object?["sessions"] as? [Any])?.count == 3)

                let resolve = await self.run(["resolve", "--json"], url: url, stdin: third.token + "\n")
                #expect(resolve.status == 0)
                #expect(resolve.output.contains(third.session.handle))
                let missing = await self.run(["resolve"], url: url, stdin: String(repeating: "x", count: 47) + "\n")
                #expect(missing.status == 1)

                let revoke = await self.run(["revoke", second.session.handle], url: url)
                #expect(revoke.status == 0)
                let revokeAgain = await self.run(["revoke", second.session.handle], url: url)
                #expect(revokeAgain.status == 1)

                let purge = await self.run(["purge", "--user", "ctl-user", "--except", third.session.handle, "--json"], url: url)
                #expect(purge.status == 0)
                #expect(purge.output.contains("\"destroyed\":1"))
                #expect(try await client.resolve(token: third.token) != nil)
                #expect(try await client.resolve(token: first.token) == nil)

                let badKey = await self.run(["list", "--user", "ctl-user"], url: url, key: "wrong-key-0123456789")
                #expect(badKey.status == 3)
                let noKey = await self.run(["list", "--user", "ctl-user"], url: url, key: nil)
                #expect(noKey.status == 2)
                let usage = await self.run(["list"], url: url)
                #expect(usage.status == 2)
                let unknown = await self.run(["frobnicate"], url: url)
                #expect(unknown.status == 2)
            }
        }
    }

    /// A user agent carrying terminal escape sequences is shown escaped in tables, exact in JSON.
    @Test func tablesShowControlCharactersAsEscapes() async throws {
        try await LiveSessiond.run { url in
            try await SessionClient.withSessionClient(configuration: .init(baseURL: url, apiKey: LiveSessiond.adminKey)) { client in
                let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}evil\u{202E}txt\r\\x1b"
                let user = "ctl-\u{1B}[31mred"
                let issued = try await client.create(userID: user, userAgent: hostile)
                let list = await self.run(["list", "--user", user], url: url)
                #expect(list.status == 0)
                #expect(!list.output.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F || $0.value == 0x202E })
                #expect(list.output.contains(#"\x1b[2J\x1b]0;pwned\x07evil\u{202E}txt\x0d\\x1b"#))
                let resolve = await self.run(["resolve"], url: url, stdin: issued.token + "\n")
                #expect(resolve.output.contains(#"ctl-\x1b[31mred"#))
                #expect(!resolve.output.unicodeScalars.contains { $0.value == 0x1B })
                // JSON output stays exact (JSON escapes the control characters itself).
                let json = await self.run(["list", "--user", user, "--json"], url: url)
                let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
                let session = (object?["sessions"] as? [[String: Any]])?.first
                #expect((session?["metadata"] as? [String: Any])?["user_agent"] as? String == hostile)
                _ = try await client.purge(user: user)
            }
        }
    }

    @Test func unavailableSessiondExitsWith4() async {
        let result = await self.run(["list", "--user", "u"], url: "http://127.0.0.1:6457")
        #expect(result.status == 4)
        let health = await self.run(["health"], url: "http://127.0.0.1:6457")
        #expect(health.status == 4)
    }
}
