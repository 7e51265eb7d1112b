import Foundation
import Logging
import NIOCore
import NIOPosix
import RedisTestSupport
import Testing

@testable import RedisWire

@Suite struct RedisClientIntegrationTests {
    @Test func sharedTestServerIsReachable() async throws {
        let redis = try TestRedis.client()
        defer { Task { await redis.shutdown() } }
        #expect(try await redis.send("PING") == .simpleString("PONG"))
    }

    @Test func aCallerOnAnEventLoopUsesThatLoopsConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let redis = RedisClient(configuration: try TestRedis.configuration(poolSize: 2), eventLoopGroup: group, logger: Logger(label: "test"))
        // Open both connections, then ask CLIENT ID from tasks pinned to each loop.
        _ = try await (redis.send("PING"), redis.send("PING"))
        var idsByLoop: [[Int]] = []
        for loop in loops {
            let executor = LoopExecutor(loop)
            var ids: [Int] = []
            for _ in 0..<5 {
                let id = try await Task(executorPreference: executor) { try await redis.send("CLIENT", "ID").int }.value
                ids.append(try #require(id))
            }
            idsByLoop.append(ids)
        }
        #expect(Set(idsByLoop[0]).count == 1, "loop 0 used \(idsByLoop[0])")
        #expect(Set(idsByLoop[1]).count == 1, "loop 1 used \(idsByLoop[1])")
        #expect(idsByLoop[0][0] != idsByLoop[1][0])
        await redis.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func setGetDeleteRoundTrip() async throws {
        let redis = try TestRedis.client()
        let key = TestRedis.key("roundtrip")
        #expect(try await redis.set(key, to: "v1", expireIn: .seconds(30)))
        #expect(try await redis.get(key).map { String(buffer: $0) } == "v1")
        let ttl = try await redis.pttl(key)
        #expect(ttl > 25_000 && ttl <= 30_000)
        #expect(try await redis.set(key, to: "v2", condition: .ifNotExists) == false)
        #expect(try await redis.delete([key]) == 1)
        #expect(try await redis.get(key) == nil)
        await redis.shutdown()
    }

    @Test func binaryValuesRoundTrip() async throws {
        let redis = try TestRedis.client()
        let key = TestRedis.key("binary")
        let value: [UInt8] = [0, 13, 10, 0, 255, 36, 42, 13, 10] + Array(repeating: 0, count: 1000)
        try await redis.set(key, to: RedisArgument(bytes: value), expireIn: .seconds(30))
        #expect(try await redis.get(key).map { Array($0.readableBytesView) } == value)
        await redis.shutdown()
    }

    @Test func largeValueRoundTrips() async throws {
        let redis = try TestRedis.client()
        let key = TestRedis.key("large")
        let value = [UInt8]((0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try await redis.set(key, to: RedisArgument(bytes: value), expireIn: .seconds(30))
        #expect(try await redis.get(key).map { Array($0.readableBytesView) } == value)
        await redis.shutdown()
    }

    @Test func tenThousandCommandsFromHundredTasksEachGetTheirOwnReply() async throws {
        let redis = try TestRedis.client(poolSize: 2)
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<100 {
                group.addTask {
                    var wrong = 0
                    for index in 0..<100 {
                        let payload = "task-\(task)-command-\(index)"
                        if try await redis.send("ECHO", RedisArgument(payload)).string != payload { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        await redis.shutdown()
    }

    @Test func serverErrorsSurfaceAsTypedErrors() async throws {
        let redis = try TestRedis.client()
        let key = TestRedis.key("wrongtype")
        try await redis.zadd(key, score: 1, member: "m")
        await #expect(throws: RedisServerError.self) { try await redis.get(key) }
        do {
            _ = try await redis.get(key)
        } catch let error as RedisServerError {
            #expect(error.kind == .wrongType)
        }
        // The connection stays usable after an error reply.
        #expect(try await redis.zcard(key) == 1)
        try await redis.delete([key])
        await redis.shutdown()
    }

    @Test func evalshaFallsBackToLoadingTheScriptOnNoscript() async throws {
        // A private server: SCRIPT FLUSH must not disturb other tests.
        let server = try RedisProcess(port: 6437)
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url).relaxed, logger: Logger(label: "t"))
        let script = RedisScript("return {KEYS[1], ARGV[1], '\(UUID().uuidString)'}")
        try await redis.send("SCRIPT", "FLUSH")
        let reply = try await redis.evaluate(script, keys: ["k"], arguments: ["a"])
        #expect(reply.array?.prefix(2).map(\.string) == ["k", "a"])
        #expect(try await redis.send("SCRIPT", "EXISTS", RedisArgument(script.sha1)).array?.first?.int == 1)
        // Flushed again (as after a failover): still works.
        try await redis.send("SCRIPT", "FLUSH")
        #expect(try await redis.evaluate(script, keys: ["k2"], arguments: ["b"]).array?.first?.string == "k2")
        await redis.shutdown()
        _ = server
    }

    @Test func pubSubDeliversMessagesOnADedicatedConnection() async throws {
        let redis = try TestRedis.client()
        let channel = "test:channel:\(UUID().uuidString)"
        let subscription = try await redis.subscribe(to: [channel])
        #expect(try await redis.publish("hello", to: channel) == 1)
        #expect(try await redis.publish(RedisArgument(bytes: [0, 13, 10]), to: channel) == 1)
        var received: [[UInt8]] = []
        for await message in subscription {
            #expect(message.channel == channel)
            received.append(Array(message.payload.readableBytesView))
            if received.count == 2 { break }
        }
        #expect(received == [Array("hello".utf8), [0, 13, 10]])
        await subscription.close()
        // The pool's connections were not turned into subscribers.
        #expect(try await redis.send("PING") == .simpleString("PONG"))
        await redis.shutdown()
    }

    /// A slow command (DEBUG SLEEP) times out alone: its late "+OK" is read and dropped, and the
    /// commands after it on the same connection get their own replies.
    @Test func commandTimeoutFailsClearlyAndTheNextCommandsGetTheirOwnReplies() async throws {
        // A private server so that DEBUG SLEEP blocks no other test.
        let server = try RedisProcess(port: 6431, arguments: ["--enable-debug-command", "yes"])
        let slow = RedisClient(configuration: try RedisConfiguration(url: server.url).with { $0.poolSize = 1; $0.timeouts.command = .milliseconds(400) }, logger: Logger(label: "t"))
        try await slow.send("SET", "k", "expected", timeout: .seconds(5))
        let started = ContinuousClock.now
        await #expect(throws: RedisClientError.commandTimeout) {
            try await slow.send("DEBUG", "SLEEP", "1.5")
        }
        #expect(ContinuousClock.now - started < .milliseconds(1200))
        // Let the server finish sleeping; until then it answers nobody.
        try await Task.sleep(for: .milliseconds(1500))
        // The late "+OK" of DEBUG SLEEP must not be handed to the next caller.
        for _ in 0..<5 {
            #expect(try await slow.get("k").map { String(buffer: $0) } == "expected")
        }
        await slow.shutdown()
        _ = server
    }

    @Test func clientPauseProvokesATimeoutAndRecovery() async throws {
        let server = try RedisProcess(port: 6432)
        let admin = RedisClient(configuration: try RedisConfiguration(url: server.url).relaxed, logger: Logger(label: "t"))
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url).with { $0.poolSize = 1; $0.timeouts.command = .milliseconds(300) }, logger: Logger(label: "t"))
        try await client.send("SET", "k", "v", timeout: .seconds(5))
        try await admin.send("CLIENT", "PAUSE", "1500", "ALL", timeout: .seconds(5))
        await #expect(throws: RedisClientError.commandTimeout) { try await client.get("k") }
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try await client.get("k").map { String(buffer: $0) } == "v")
        await client.shutdown()
        await admin.shutdown()
    }

    @Test func wrongPasswordIsATypedAuthenticationError() async throws {
        let server = try RedisProcess(port: 6433, arguments: ["--requirepass", "right-password"])
        let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://:bad-secret-xyz@127.0.0.1:6433").relaxed, logger: Logger(label: "t"))
        do {
            try await wrong.ping()
            Issue.record("AUTH with a wrong password succeeded")
        } catch let error as RedisClientError {
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains("bad-secret-xyz"))
        }
        let none = RedisClient(configuration: try RedisConfiguration(url: server.url).relaxed, logger: Logger(label: "t"))
        do {
            try await none.ping()
            Issue.record("no AUTH succeeded against requirepass")
        } catch let error as RedisServerError {
            #expect(error.kind == .noAuth)
        }
        let right = RedisClient(configuration: try RedisConfiguration(url: "redis://:right-password@127.0.0.1:6433/2").relaxed, logger: Logger(label: "t"))
        try await right.set("k", to: "db2")
        #expect(try await right.send("CLIENT", "INFO").string?.contains("db=2") == true)
        await wrong.shutdown()
        await none.shutdown()
        await right.shutdown()
        _ = server
    }

    @Test func aclUserAuthenticatesAndClientNameIsSet() async throws {
        let server = try RedisProcess(port: 6434)
        let admin = RedisClient(configuration: try RedisConfiguration(url: server.url).relaxed, logger: Logger(label: "t"))
        try await admin.send("ACL", "SETUSER", "svc", "on", ">svc-pass", "~app:*", "+get", "+set", "+ping", "+client")
        var configuration = try RedisConfiguration(url: "redis://svc:svc-pass@127.0.0.1:6434").relaxed
        configuration.clientName = "sessiond-test"
        let user = RedisClient(configuration: configuration, logger: Logger(label: "t"))
        try await user.set("app:k", to: "v")
        #expect(try await user.send("CLIENT", "GETNAME").string == "sessiond-test")
        do {
            try await user.set("other:k", to: "v")
            Issue.record("ACL did not refuse a key outside the pattern")
        } catch let error as RedisServerError {
            #expect(error.kind == .noPermission)
        }
        await user.shutdown()
        await admin.shutdown()
        _ = server
    }

    @Test func redisKilledAndRestartedMidRunFailsFastThenRecovers() async throws {
        let server = try RedisProcess(port: 6435)
        let client = RedisClient(
            configuration: try RedisConfiguration(url: server.url).with {
                $0.poolSize = 2
                $0.timeouts.command = .milliseconds(500)
                $0.backoff = .init(initial: .milliseconds(20), maximum: .milliseconds(200))
            },
            logger: Logger(label: "t")
        )
        try await client.set("k", to: "v")
        // 20 tasks hammer the server while it is killed.
        let failures = ManagedCounter()
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let end = ContinuousClock.now + .seconds(3)
                        while ContinuousClock.now < end {
                            let started = ContinuousClock.now
                            do {
                                _ = try await client.get("k")
                            } catch {
                                // A failing command never hangs past its timeout plus a margin.
                                #expect(ContinuousClock.now - started < .milliseconds(1500))
                                failures.increment()
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        server.kill()
        try await Task.sleep(for: .milliseconds(700))
        try server.start()
        try await load.value
        #expect(failures.value > 0)
        // Fresh server (no data): commands succeed without restarting the client.
        var recovered = false
        for _ in 0..<50 {
            if (try? await client.set("k", to: "again")) == true { recovered = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(recovered)
        #expect(try await client.get("k").map { String(buffer: $0) } == "again")
        await client.shutdown()
    }

    @Test func unreachableServerFailsFastWithUnavailable() async throws {
        let client = RedisClient(
            configuration: try RedisConfiguration(url: "redis://127.0.0.1:6436").with { $0.timeouts.connect = .milliseconds(300) },
            logger: Logger(label: "t")
        )
        let started = ContinuousClock.now
        for _ in 0..<20 {
            do {
                try await client.ping()
                Issue.record("ping succeeded against a closed port")
            } catch let error as RedisClientError {
                #expect(error.isUnavailability)
            }
        }
        #expect(ContinuousClock.now - started < .seconds(4))
        await client.shutdown()
    }

    @Test func shutDownClientRefusesCommands() async throws {
        let redis = try TestRedis.client()
        try await redis.ping()
        await redis.shutdown()
        await #expect(throws: RedisClientError.shutDown) { try await redis.ping() }
    }
}

extension RedisConfiguration {
    /// Generous timeouts for tests that do not test timeouts (the machine is shared and tests run in parallel).
    var relaxed: RedisConfiguration { self.with { $0.timeouts = .init(connect: .seconds(2), command: .seconds(2)) } }

    func with(_ change: (inout RedisConfiguration) -> Void) -> RedisConfiguration {
        var copy = self
        change(&copy)
        return copy
    }
}

final class ManagedCounter: Sendable {
    private let box = LockedBox(0)
    func increment() { self.box.withLock { $0 += 1 } }
    var value: Int { self.box.withLock { $0 } }
}

/// Runs a task's jobs on one event loop (what sessiond's fast path does).
final class LoopExecutor: TaskExecutor {
    let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Servers older than the configured minimum are refused at connect, and said so once.
@Suite struct ServerVersionTests {
    @Test func versionsParseFromInfo() {
        #expect(RedisServerVersion(info: "# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\n") == RedisServerVersion(6, 2, 14))
        #expect(RedisServerVersion(info: "redis_version:7.0.15\r\n")! >= RedisServerVersion(7, 0))
        #expect(RedisServerVersion(info: "redis_version:6.2.14\r\n")! < RedisServerVersion(7, 0))
        #expect(RedisServerVersion(info: "redis_version:10.1\r\n")! > RedisServerVersion(7, 4, 2))
        #expect(RedisServerVersion(info: "valkey_version:8.0.0\r\n") == nil)
        #expect(RedisServerVersion(info: "redis_version:x.y\r\n") == nil)
    }

    /// The real server (7.0.x) against a minimum it does not meet: every command fails with
    /// `unsupportedServer` (never reaching the server), and one log line names both versions.
    @Test func aServerBelowTheMinimumIsRefusedAndLoggedOnce() async throws {
        var configuration = try TestRedis.configuration(poolSize: 2)
        configuration.minimumServerVersion = RedisServerVersion(99, 0)
        configuration.backoff = .init(initial: .milliseconds(1), maximum: .milliseconds(5))
        let lines = RecordingLogHandler.Lines()
        let redis = RedisClient(configuration: configuration, logger: RecordingLogHandler.logger(lines))
        defer { Task { await redis.shutdown() } }
        for _ in 0..<10 {
            await #expect {
                try await redis.send("PING")
            } throws: { error in
                (error as? RedisClientError)?.code == .unsupportedServer
            }
            try await Task.sleep(for: .milliseconds(3))
        }
        let refusals = lines.all.filter { $0.contains("too old") }
        #expect(refusals.count == 1, "\(lines.all)")
        #expect(refusals.first?.contains("the minimum is Redis 99.0.0") == true)
        #expect(refusals.first?.contains("the server runs Redis 7.") == true)
    }

    @Test func aServerAtTheMinimumIsAccepted() async throws {
        var configuration = try TestRedis.configuration(poolSize: 1)
        configuration.minimumServerVersion = RedisServerVersion(7, 0)
        let redis = RedisClient(configuration: configuration, logger: Logger(label: "test"))
        defer { Task { await redis.shutdown() } }
        #expect(try await redis.send("PING") == .simpleString("PONG"))
    }
}

/// Commands that would block or re-configure a shared pipelined connection are refused there, and
/// run on a dedicated connection instead.
@Suite struct DedicatedConnectionTests {
    @Test(arguments: ["WAIT", "MULTI", "SUBSCRIBE", "SELECT", "BLPOP"])
    func connectionStateCommandsAreRefusedOnSharedConnections(name: String) async throws {
        let redis = try TestRedis.client()
        defer { Task { await redis.shutdown() } }
        await #expect {
            try await redis.send(RedisCommand(name, ["0", "0"]))
        } throws: { error in
            (error as? RedisClientError)?.code == .invalidCommand
        }
        await #expect(throws: RedisClientError.self) { try await redis.send("CLIENT", "REPLY", "OFF") }
        // The shared connection is untouched.
        #expect(try await redis.send("PING") == .simpleString("PONG"))
    }

    @Test func aDedicatedConnectionRunsThem() async throws {
        let redis = try TestRedis.client()
        defer { Task { await redis.shutdown() } }
        let key = TestRedis.key("dedicated")
        let replicas = try await redis.withDedicatedConnection(forKey: key) { connection in
            _ = try await connection.send(RedisCommand("SET", key, "v"), timeout: .seconds(2)).get()
            return try await connection.send(RedisCommand("WAIT", "0", "100"), timeout: .seconds(2)).get().int
        }
        #expect(replicas == 0)  // a lone node: no replica to acknowledge
        #expect(try await redis.get(key).map { String(buffer: $0) } == "v")
    }
}
