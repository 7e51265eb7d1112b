import Testing

@testable import RedisWire

@Suite struct ServerErrorTests {
    @Test(arguments: [
        ("ERR unknown command", RedisServerError.Kind.generic),
        ("MOVED 3999 127.0.0.1:6381", .moved),
        ("ASK 3999 127.0.0.1:6381", .ask),
        ("LOADING Redis is loading the dataset in memory", .loading),
        ("READONLY You can't write against a read only replica.", .readOnly),
        ("NOAUTH Authentication required.", .noAuth),
        ("WRONGPASS invalid username-password pair", .wrongPassword),
        ("NOPERM this user has no permissions", .noPermission),
        ("WRONGTYPE Operation against a key holding the wrong kind of value", .wrongType),
        ("NOSCRIPT No matching script.", .noScript),
        ("CLUSTERDOWN The cluster is down", .clusterUnavailable),
        ("SOMETHING new", .other("SOMETHING")),
    ])
    func errorRepliesAreClassifiedByPrefix(message: String, kind: RedisServerError.Kind) {
        #expect(RedisServerError(message: message).kind == kind)
    }

    @Test func redirectsCarrySlotAndAddress() throws {
        let redirect = try #require(RedisServerError(message: "MOVED 3999 127.0.0.1:6381").redirect)
        #expect(redirect.slot == 3999)
        #expect(redirect.address == "127.0.0.1:6381")
        #expect(RedisServerError(message: "ERR x").redirect == nil)
    }

    @Test func onlyTransientErrorsAreRetryable() {
        #expect(RedisServerError(message: "LOADING x").isRetryable)
        #expect(!RedisServerError(message: "WRONGTYPE x").isRetryable)
        #expect(!RedisServerError(message: "NOSCRIPT x").isRetryable)
    }
}
