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

    /// Formats `name` followed by `arguments` with hiredis.
    public init(_ name: String, _ arguments: [RedisArgument] = []) {
        self.name = name
        var buffer = ByteBufferAllocator().buffer(capacity: 32 + arguments.reduce(0) { $0 + $1.bytes.count + 16 })
        HiredisCommandFormatter.format([RedisArgument(name)] + arguments, into: &buffer)
        self.encoded = buffer
    }

    /// Formats `name` followed by `arguments` with hiredis.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.init(name, arguments)
    }
}
