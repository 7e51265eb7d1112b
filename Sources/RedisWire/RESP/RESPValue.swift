import NIOCore

/// A Redis reply, converted from hiredis's `redisReply` tree the moment it is parsed.
///
/// No C pointer survives the conversion: bulk strings are copied into `ByteBuffer`s.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`-style status reply.
    case simpleString(String)
    /// A binary-safe bulk string.
    case bulkString(ByteBuffer)
    /// A nil bulk string or nil multi-bulk.
    case null
    /// An integer reply.
    case integer(Int64)
    /// An error reply (`-ERR …`), typed by its prefix.
    case error(RedisServerError)
    /// A multi-bulk reply.
    case array([RESPValue])
}

extension RESPValue {
    /// The reply as UTF-8 text, for bulk and status replies.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer): return String(buffer: buffer)
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// The reply's bytes, for bulk and status replies.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let buffer): return Array(buffer.readableBytesView)
        case .simpleString(let text): return Array(text.utf8)
        default: return nil
        }
    }

    /// The reply as an integer, for integer replies and bulk strings that hold a decimal number.
    public var int: Int? {
        switch self {
        case .integer(let value): return Int(value)
        case .bulkString(let buffer): return Int(String(buffer: buffer))
        case .simpleString(let text): return Int(text)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RESPValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// Whether this is a nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
