import Foundation
import Logging
import NIOCore
import RedisTestSupport
import RedisWire
import SessionCore
import Testing

/// What a touch writes, seen from a private `redis-server` whose command statistics no other test
/// disturbs, and what a resolve does when Redis is full.
@Suite(.serialized) struct TouchWriteTests {
    func repository(_ redis: RedisClient, prefix: String) -> RedisSessionRepository {
        RedisSessionRepository(
            redis: redis,
            layout: KeyLayout(prefix: prefix),
            policy: StorePolicy(touchInterval: 0),
            logger: Logger(label: "test")
        )
    }

    func newSession(data: String = #"{"k":"v"}"#) -> NewSession {
        NewSession(userID: "toucher", dataJSON: Array(data.utf8), metadataJSON: Array("{}".utf8), idleTimeout: 60_000, absoluteTimeout: 600_000)
    }

    /// Calls of each command since the server started.
    func commandCalls(_ redis: RedisClient) async throws -> [String: Int] {
        let text = try await redis.send("INFO", "commandstats").string ?? ""
        var calls: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            if let range = line.range(of: "calls="), let end = line[range.upperBound...].firstIndex(of: ",") {
                calls[String(name)] = Int(line[range.upperBound..<end])
            }
        }
        return calls
    }

    @Test func aDueTouchSendsSetrangeAndPexpireNeverSet() async throws {
        let server = try RedisProcess(port: 6445)
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        let repository = self.repository(redis, prefix: "touch:")
        let issued = try await repository.create(self.newSession(data: #"{"blob":""# + String(repeating: "y", count: 16_000) + #""}"#))
        try await Task.sleep(for: .milliseconds(5))
        let before = try await self.commandCalls(redis)
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(3))
            #expect(try await repository.resolve(issued.token) != nil)
        }
        let after = try await self.commandCalls(redis)
        #expect((after["set"] ?? 0) == (before["set"] ?? 0), "a touch rewrote the whole record")
        #expect((after["setrange"] ?? 0) - (before["setrange"] ?? 0) == 5)
        #expect((after["pexpire"] ?? 0) - (before["pexpire"] ?? 0) == 5)
    }

    /// Redis at `maxmemory` with `noeviction` refuses writes (`-OOM`); a resolve whose touch is due
    /// still answers from the record it read, while a create answers "unavailable".
    @Test func aTouchRefusedForMemoryStillAnswersTheResolve() async throws {
        let server = try RedisProcess(port: 6446, arguments: ["--maxmemory-policy", "noeviction"])
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        let repository = self.repository(redis, prefix: "oom:")
        let issued = try await repository.create(self.newSession())
        let used = try await redis.send("INFO", "memory").string ?? ""
        let usedMemory = used.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst("used_memory:".count)) }
        // Full from now on: any write that could grow memory is refused.
        try await redis.send("CONFIG", "SET", "maxmemory", RedisArgument(String(max(1, (try #require(usedMemory)) / 2))))
        defer { Task { try? await redis.send("CONFIG", "SET", "maxmemory", "0") } }
        await #expect(throws: SessionStoreError.self) { try await repository.create(self.newSession()) }
        try await Task.sleep(for: .milliseconds(5))
        let resolved = try await repository.resolve(issued.token)
        #expect(resolved?.handle == issued.token.handle)
        #expect(resolved?.dataJSON == Array(#"{"k":"v"}"#.utf8))
    }
}
