import Testing

@testable import RedisWire

@Suite struct ConfigurationTests {
    @Test func fullURLIsParsed() throws {
        let configuration = try RedisConfiguration(url: "redis://svc:p%40ss@redis.internal:6380/3")
        #expect(configuration.host == "redis.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.username == "svc")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == 3)
        #expect(configuration.tls == nil)
    }

    @Test func minimalURLTakesDefaults() throws {
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1")
        #expect(configuration.port == 6379)
        #expect(configuration.password == nil)
        #expect(configuration.database == 0)
    }

    @Test func passwordOnlyAndIPv6AndTLS() throws {
        let configuration = try RedisConfiguration(url: "rediss://:secret@[::1]:7000")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 7000)
        #expect(configuration.username == nil)
        #expect(configuration.password == "secret")
        #expect(configuration.tls != nil)
    }

    @Test(arguments: ["http://x", "redis://", "redis://h:99999", "redis://h:1/x", "redis://h:abc"])
    func invalidURLsAreRejectedWithoutEchoingSecrets(url: String) {
        #expect(throws: RedisClientError.self) { try RedisConfiguration(url: url) }
    }

    @Test func errorNeverContainsThePassword() {
        do {
            _ = try RedisConfiguration(url: "redis://u:hunter2@h:notaport")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
