import Foundation
import Logging
import NIOCore
import NIOPosix
import RedisWire

/// The shared test server started by `scripts/redis.sh` (override with `SESSIOND_TEST_REDIS_URL`).
/// These tests never skip: when Redis is not there, they fail.
public enum TestRedis {
    public static let url = ProcessInfo.processInfo.environment["SESSIOND_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6399"

    public static func configuration(poolSize: Int = 2, commandTimeout: TimeAmount = .seconds(2)) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = poolSize
        configuration.timeouts.command = commandTimeout
        return configuration
    }

    public static func client(poolSize: Int = 2, commandTimeout: TimeAmount = .seconds(2)) throws -> RedisClient {
        RedisClient(configuration: try configuration(poolSize: poolSize, commandTimeout: commandTimeout), logger: Logger(label: "test"))
    }

    /// A key unique to one test run so parallel tests never collide.
    public static func key(_ name: String) -> RedisArgument {
        RedisArgument("test:\(UUID().uuidString):\(name)")
    }
}

/// A private `redis-server` on its own port, for tests that kill, restart or reconfigure the server.
///
/// It runs daemonized (no Foundation `Process`, whose `waitUntilExit` can block a cooperative thread
/// forever on Linux) and is shut down when the object is released.
public final class RedisProcess: @unchecked Sendable {
    public let port: Int
    private let extraArguments: [String]
    private let launcher: [String]
    private let environment: [String: String]
    private let directory: String

    /// - Parameters:
    ///   - launcher: the program that starts the server and passes the remaining arguments on to
    ///     `redis-server` (default: `redis-server` itself).
    ///   - environment: added to the launcher's environment.
    public init(port: Int, arguments: [String] = [], launcher: [String] = ["redis-server"], environment: [String: String] = [:]) throws {
        self.port = port
        self.extraArguments = arguments
        self.launcher = launcher
        self.environment = environment
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-test-redis-\(port)").path
        try self.start()
    }

    deinit { self.kill() }

    public var url: String { "redis://127.0.0.1:\(self.port)" }
    private var pidFile: String { self.directory + "/redis.pid" }

    public func start() throws {
        // A server left behind by an interrupted earlier run would make a test lie: stop it first.
        if Self.isAccepting(port: self.port) {
            self.kill()
            guard !Self.isAccepting(port: self.port) else {
                throw RedisProcessError(message: "port \(self.port) is taken by another process")
            }
        }
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        let status = Self.spawnAndWait(
            self.launcher + ["--port", "\(self.port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--dir", self.directory, "--pidfile", self.pidFile, "--logfile", self.directory + "/redis.log"]
                + self.extraArguments,
            environment: self.environment
        )
        guard status == 0 else {
            throw RedisProcessError(message: "redis-server could not be started (is it installed? run scripts/test.sh)")
        }
        for _ in 0..<200 {
            if Self.isAccepting(port: self.port) { return }
            usleep(25_000)
        }
        throw RedisProcessError(message: "redis-server did not start on port \(self.port)")
    }

    /// Kills the server at once (SIGKILL), as a crash would, and waits until the port is closed.
    public func kill() {
        if let text = try? String(contentsOfFile: self.pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            Foundation.kill(pid, SIGKILL)
        } else {
            _ = Self.spawnAndWait(["redis-cli", "-p", "\(self.port)", "shutdown", "nosave"])
        }
        try? FileManager.default.removeItem(atPath: self.pidFile)
        for _ in 0..<200 where Self.isAccepting(port: self.port) {
            usleep(25_000)
        }
    }

    /// Runs a command with its output sent to /dev/null. Not `runProgram`: a daemonizing redis-server
    /// keeps inherited output pipes open, so capturing its output would wait for it forever.
    private static func spawnAndWait(_ arguments: [String], environment: [String: String] = [:]) -> Int32 {
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { _, new in new }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawnp(&pid, arguments[0], &fileActions, nil, argv, envp) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status
    }

    public static func isAccepting(port: Int) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

public struct RedisProcessError: Error, CustomStringConvertible {
    let message: String
    public var description: String { self.message }
}

/// A value shared between concurrent test tasks.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}

/// Runs a program to completion off the cooperative thread pool and returns its exit status and output.
///
/// The wait runs on a thread of its own: on Linux `DispatchQueue.global()` shares its threads with
/// Swift concurrency's pool (two on a 2-core machine), so a few programs waiting there for seconds
/// stalled every other test's tasks in the process, live servers included.
public func runProgram(_ arguments: [String], standardInput: String = "", environment: [String: String] = [:]) async -> (status: Int32, output: String, error: String) {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: runProgramBlocking(arguments, standardInput: standardInput, environment: environment))
        }
        thread.start()
    }
}

private func runProgramBlocking(_ arguments: [String], standardInput: String, environment: [String: String]) -> (Int32, String, String) {
    var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
    guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { return (-1, "", "pipe failed") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    for fd in [inPipe[1], outPipe[0], errPipe[0], inPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
    close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
    guard spawned == 0 else {
        close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
        return (-1, "", "spawn failed: \(spawned)")
    }
    _ = standardInput.withCString { write(inPipe[1], $0, strlen($0)) }
    close(inPipe[1])
    func readAll(_ fd: Int32) -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        close(fd)
        return String(decoding: data, as: UTF8.self)
    }
    let output = readAll(outPipe[0])
    let error = readAll(errPipe[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    return (exitStatus, output, error)
}

/// A log handler that keeps every line, for tests that check what was (and was not) logged.
public struct RecordingLogHandler: LogHandler {
    /// The lines logged so far (level, message and metadata rendered as `key=value`).
    public final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        public init() {}
        public var all: [String] {
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.lines
        }
        func append(_ line: String) {
            self.lock.lock()
            self.lines.append(line)
            self.lock.unlock()
        }
    }

    public let lines: Lines
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public init(lines: Lines) { self.lines = lines }

    /// A logger whose lines land in `lines`.
    public static func logger(_ lines: Lines, label: String = "test") -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(lines: lines) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let rendered = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        self.lines.append("\(event.level) \(event.message) \(rendered)")
    }
}

/// The URL in environment variable `name`; a test that needs it fails, never skips, without it.
func labURL(_ name: String, lab: String) throws -> String {
    guard let url = ProcessInfo.processInfo.environment[name] else {
        throw RedisProcessError(message: "\(name) is not set: start the lab (scripts/redis-lab.sh \(lab) start) or run scripts/test.sh")
    }
    return url
}

/// The loopback Redis Cluster of `scripts/redis-lab.sh cluster start` (test.sh starts it).
public enum TestCluster {
    public static var url: String { get throws { try labURL("SESSIOND_TEST_CLUSTER_URL", lab: "cluster") } }
}

/// A small seeded generator, so random test sequences replay exactly.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { self.state = seed }
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A stand-in Redis node on loopback that answers each command (an array of bulk strings) with the
/// raw RESP that `answer` returns for it; for redirect, retry and refresh tests.
public final class FakeRedisNode: @unchecked Sendable {
    public let channel: any Channel
    public var port: Int { self.channel.localAddress!.port! }
    public var address: String { "127.0.0.1:\(self.port)" }
    private let recorded: LockedBox<[[String]]>

    public init(answer: @escaping @Sendable ([String]) -> String) async throws {
        let box = LockedBox<[[String]]>([])
        self.recorded = box
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeRedisHandler(answer: answer, record: { command in box.withLock { $0.append(command) } }))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    /// Every command received so far, in order.
    public var received: [[String]] { self.recorded.withLock { $0 } }

    public func close() async { try? await self.channel.close() }
}

private final class FakeRedisHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let answer: @Sendable ([String]) -> String
    let record: @Sendable ([String]) -> Void
    var buffer = [UInt8]()

    init(answer: @escaping @Sendable ([String]) -> String, record: @escaping @Sendable ([String]) -> Void) {
        self.answer = answer
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.buffer.append(contentsOf: self.unwrapInboundIn(data).readableBytesView)
        while let (command, used) = Self.parse(self.buffer) {
            self.buffer.removeFirst(used)
            self.record(command)
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.answer(command))), promise: nil)
        }
    }

    /// One `*n\r\n$len\r\nbytes\r\n…` command and the bytes it used, or nil when incomplete.
    static func parse(_ bytes: [UInt8]) -> ([String], Int)? {
        func line(from start: Int) -> (String, Int)? {
            var index = start
            while index + 1 < bytes.count {
                if bytes[index] == 13, bytes[index + 1] == 10 { return (String(decoding: bytes[start..<index], as: UTF8.self), index + 2) }
                index += 1
            }
            return nil
        }
        guard bytes.first == UInt8(ascii: "*"), let (countText, afterCount) = line(from: 1), let count = Int(countText) else { return nil }
        var index = afterCount
        var parts: [String] = []
        for _ in 0..<count {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "$"), let (lengthText, afterLength) = line(from: index + 1),
                let length = Int(lengthText), afterLength + length + 2 <= bytes.count
            else { return nil }
            parts.append(String(decoding: bytes[afterLength..<(afterLength + length)], as: UTF8.self))
            index = afterLength + length + 2
        }
        return (parts, index)
    }
}

/// The loopback Sentinel set-up of `scripts/redis-lab.sh sentinel start` (test.sh starts it).
public enum TestSentinel {
    public static var url: String { get throws { try labURL("SESSIOND_TEST_SENTINEL_URL", lab: "sentinel") } }
}
