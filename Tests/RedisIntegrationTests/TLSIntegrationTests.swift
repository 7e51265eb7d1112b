import Foundation
import Logging
import NIOCore
import NIOSSL
import RedisTestSupport
import Testing

@testable import RedisWire

/// `rediss://` against a real redis-server with TLS, using a CA and certificate made for the test.
@Suite struct TLSIntegrationTests {
    @Test func rediss_connectsVerifiesAndRoundTrips() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = directory + "/ca", server = directory + "/server"
        let steps: [[String]] = [
            ["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=sessiond test CA",
             "-keyout", ca + ".key", "-out", ca + ".crt"],
            ["/usr/bin/openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", server + ".key", "-out", server + ".csr"],
            ["/usr/bin/openssl", "x509", "-req", "-in", server + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
             "-days", "1", "-extfile", directory + "/san.cnf", "-out", server + ".crt"],
        ]
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
        for step in steps {
            let result = await runProgram(step)
            try #require(result.status == 0, "openssl failed: \(result.error)")
        }
        let redis = try RedisProcess(
            port: 6444,
            arguments: ["--port", "0", "--tls-port", "6444", "--tls-cert-file", server + ".crt", "--tls-key-file", server + ".key",
                        "--tls-ca-cert-file", ca + ".crt", "--tls-auth-clients", "no"]
        )

        var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:6444")
        configuration.tls?.trustRoots = .file(ca + ".crt")
        configuration.timeouts = .init(connect: .seconds(2), command: .seconds(2))
        let client = RedisClient(configuration: configuration, logger: Logger(label: "tls"))
        try await client.set("k", to: RedisArgument(bytes: [0, 13, 10, 255]))
        #expect(try await client.get("k").map { Array($0.readableBytesView) } == [0, 13, 10, 255])
        await client.shutdown()

        // Without the CA the server's certificate is not trusted: the connect fails, it never downgrades.
        var untrusted = try RedisConfiguration(url: "rediss://127.0.0.1:6444")
        untrusted.timeouts = .init(connect: .seconds(2), command: .seconds(2))
        let refused = RedisClient(configuration: untrusted, logger: Logger(label: "tls"))
        await #expect(throws: RedisClientError.self) { try await refused.ping() }
        await refused.shutdown()
        _ = redis
    }
}
