import NIOCore

/// One argument of a Redis command: binary-safe bytes.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral {
    /// The argument's bytes as sent on the wire.
    public var bytes: [UInt8]

    /// An argument from raw bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }
    /// An argument from UTF-8 text.
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    /// An argument from a buffer's readable bytes.
    public init(_ buffer: ByteBuffer) { self.bytes = Array(buffer.readableBytesView) }
    /// An argument from a decimal integer.
    public init(_ value: Int) { self.bytes = Array(String(value).utf8) }
    /// An argument from a decimal integer.
    public init(_ value: Int64) { self.bytes = Array(String(value).utf8) }
    public init(stringLiteral value: String) { self.bytes = Array(value.utf8) }
}

/// A command ready for the wire: hiredis has already formatted it.
public struct RedisCommand: Sendable {
    /// The command name (for metrics and logs; never the arguments, which may hold secrets).
    public let name: String
    /// The RESP bytes hiredis produced.
    public let encoded: ByteBuffer
    /// The command's first key (what a Redis Cluster routes it by), or nil for a keyless command.
    public let firstKey: [UInt8]?
    /// Whether the command would block a shared pipelined connection or change its state for everybody
    /// on it (`SUBSCRIBE`, `MULTI`, `SELECT`, `WAIT`, `CLIENT REPLY`, blocking pops…).
    public let changesConnectionState: Bool

    /// Formats `name` followed by `arguments` with hiredis.
    public init(_ name: String, _ arguments: [RedisArgument] = []) {
        self.name = name
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + arguments.reduce(0) { $0 + $1.bytes.count + 16 })
        HiredisCommandFormatter.format([RedisArgument(name)] + arguments, into: &buffer)
        self.encoded = buffer
        self.firstKey = Self.firstKey(name: name, arguments: arguments)
        if name == "GET" || name == "SET" || name == "EVALSHA" || name == "EVAL" {
            self.changesConnectionState = false
        } else {
            let upper = name.uppercased()
            self.changesConnectionState = Self.connectionState.contains(upper)
                || (upper == "CLIENT" && arguments.first.map { String(decoding: $0.bytes, as: UTF8.self).uppercased() == "REPLY" } == true)
        }
    }

    /// Commands that would block a shared pipelined connection or change its state for everybody on it.
    private static let connectionState: Set<String> = [
        "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SELECT",
        "WAIT", "WAITAOF", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
        "XREAD", "XREADGROUP", "QUIT", "RESET", "READONLY", "READWRITE", "ASKING",
    ]

    /// The hash slot of the first key (computed when asked: only cluster routing needs it).
    public var slot: Int? { self.firstKey.map { HashSlot.of($0) } }

    private static let keyless: Set<String> = [
        "PING", "INFO", "SCRIPT", "CLIENT", "TIME", "AUTH", "SELECT", "CLUSTER", "ASKING", "ROLE", "SENTINEL",
        "WAIT", "HELLO", "MULTI", "EXEC", "DISCARD", "DBSIZE", "FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SCAN",
        "KEYS", "RANDOMKEY", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "PUBLISH", "READONLY",
        "READWRITE", "ECHO", "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "SHUTDOWN", "COMMAND", "ACL", "LATENCY",
        "SLOWLOG", "FUNCTION", "FAILOVER", "REPLICAOF", "SLAVEOF", "SWAPDB", "MONITOR", "QUIT", "RESET",
    ]

    private static func firstKey(name: String, arguments: [RedisArgument]) -> [UInt8]? {
        // The hot commands first, without case folding.
        if name == "GET" || name == "SET" { return arguments.first?.bytes }
        let upper = name == "EVALSHA" ? name : name.uppercased()
        switch upper {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count >= 3, let count = Int(String(decoding: arguments[1].bytes, as: UTF8.self)), count > 0 else { return nil }
            return arguments[2].bytes
        default:
            if self.keyless.contains(upper) { return nil }
            return arguments.first?.bytes
        }
    }

    /// Formats `name` followed by `arguments` with hiredis.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }
}
