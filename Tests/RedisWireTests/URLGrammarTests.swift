import Testing

@testable import RedisWire

/// One URL grammar for every mode.
@Suite struct URLGrammarTests {
    @Test func oneNodeURLsAreUnchanged() throws {
        let configuration = try RedisConfiguration(url: "redis://user:p%40ss@cache.internal:6380/2")
        #expect(configuration.topology == .standalone)
        #expect(configuration.host == "cache.internal" && configuration.port == 6380 && configuration.database == 2)
        #expect(configuration.username == "user" && configuration.password == "p@ss")
        #expect(try RedisConfiguration(url: "rediss://[::1]:6390").tls != nil)
    }

    @Test func sentinelURLs() throws {
        let configuration = try RedisConfiguration(url: "redis+sentinel://app:secret@s1:26379,s2,[::1]:26380/mymaster?sentinel_password=sp")
        guard case .sentinel(let sentinel) = configuration.topology else { Issue.record("not sentinel"); return }
        #expect(sentinel.sentinels == [RedisEndpoint(host: "s1", port: 26379), RedisEndpoint(host: "s2", port: 26379), RedisEndpoint(host: "::1", port: 26380)])
        #expect(sentinel.masterName == "mymaster")
        #expect(sentinel.password == "sp" && sentinel.username == "app")  // the user stays unless the query names another
        #expect(configuration.username == "app" && configuration.password == "secret")
        #expect(configuration.tls == nil)
        #expect(try RedisConfiguration(url: "rediss+sentinel://s1/m").tls != nil)
        // Without sentinel credentials in the query, the sentinels get the data nodes'.
        guard case .sentinel(let same) = try RedisConfiguration(url: "redis+sentinel://u:pw@s1/m").topology else { return }
        #expect(same.username == "u" && same.password == "pw")
    }

    @Test func clusterURLs() throws {
        let configuration = try RedisConfiguration(url: "redis+cluster://u:pw@n1:7000,n2:7001,n3")
        #expect(configuration.topology == .cluster(seeds: [
            RedisEndpoint(host: "n1", port: 7000), RedisEndpoint(host: "n2", port: 7001), RedisEndpoint(host: "n3", port: 6379),
        ]))
        #expect(configuration.password == "pw")
        #expect(try RedisConfiguration(url: "rediss+cluster://n1:7000").tls != nil)
    }

    /// A wrong URL stops the start with a reason naming the part that is wrong, never the password.
    @Test(arguments: [
        ("http://x", "scheme"),
        ("redis+cluster://n1:7000/0", "database"),
        ("redis+sentinel://s1:26379", "master name"),
        ("redis+sentinel://s1:26379/m?color=blue", "query parameter"),
        ("redis://n1,n2", "several hosts"),
        ("redis+cluster://n1:99999", "port"),
        ("redis+cluster://n1,,n2", "host"),
        ("redis://:hunter2@[::1", "IPv6"),
        ("redis://h?x=1", "query"),
    ])
    func wrongURLsAreRefusedWithTheirReason(url: String, part: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.reason.contains(part), "\(url): \(error.reason)")
            #expect(!error.reason.contains("hunter2"))
        }
    }

    @Test func redisAddressesParse() {
        #expect(RedisEndpoint(redisAddress: "127.0.0.1:7001") == RedisEndpoint(host: "127.0.0.1", port: 7001))
        #expect(RedisEndpoint(redisAddress: "::1:7001") == RedisEndpoint(host: "::1", port: 7001))
        #expect(RedisEndpoint(redisAddress: "nohost") == nil)
    }
}
