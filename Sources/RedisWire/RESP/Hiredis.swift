// The only file that touches hiredis. Every C allocation made here is freed here,
// and no C pointer leaves this file: replies are deep-copied into `RESPValue`.
private import CHiredis
import NIOCore

/// Incremental RESP2 parser over hiredis's `redisReader`.
///
/// Not thread-safe: one reader belongs to one channel handler and is used on its event loop only.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>
    /// The largest number of unparsed bytes the reader may hold before the stream is declared hostile.
    let maximumBufferedBytes: Int

    init(maximumBufferedBytes: Int = 512 * 1024 * 1024) {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reader (out of memory)")
        }
        self.reader = reader
        self.maximumBufferedBytes = maximumBufferedBytes
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// Bytes fed but not yet turned into a complete reply.
    var bufferedByteCount: Int {
        Int(chiredis_reader_pending_bytes(self.reader))
    }

    /// Appends bytes read from the socket.
    func feed(_ buffer: ByteBuffer) throws(RedisProtocolError) {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(self.reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard status == REDIS_OK else { throw self.currentError() }
        if self.bufferedByteCount > self.maximumBufferedBytes {
            throw RedisProtocolError(message: "reply exceeds \(self.maximumBufferedBytes) bytes")
        }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    func next() throws(RedisProtocolError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer? = nil
        guard redisReaderGetReply(self.reader, &raw) == REDIS_OK else {
            throw self.currentError()
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func currentError() -> RedisProtocolError {
        RedisProtocolError(message: String(cString: chiredis_reader_error(self.reader)))
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(ByteBuffer(bytes: UnsafeRawBufferPointer(start: node.str, count: node.len)))
        case REDIS_REPLY_STATUS:
            return .simpleString(Self.text(node))
        case REDIS_REPLY_ERROR:
            return .error(RedisServerError(message: Self.text(node)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                if let child = node.element[index] {
                    elements.append(Self.convert(child))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .error(RedisServerError(message: "ERR unknown reply type \(node.type)"))
        }
    }

    private static func text(_ node: redisReply) -> String {
        guard let str = node.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: node.len), as: UTF8.self)
    }
}

/// Formats a command with hiredis's `redisFormatCommandArgv` into the RESP bytes sent on the wire.
enum HiredisCommandFormatter {
    /// Formats `arguments` (the command name first) into `output`.
    static func format(_ arguments: [RedisArgument], into output: inout ByteBuffer) {
        var totalLength = 0
        for argument in arguments { totalLength += argument.bytes.count }
        // One contiguous scratch area holds every argument so that all argv pointers stay valid
        // for the single C call.
        var scratch = [UInt8]()
        scratch.reserveCapacity(totalLength)
        var lengths = [Int]()
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            scratch.append(contentsOf: argument.bytes)
            lengths.append(argument.bytes.count)
        }
        scratch.withUnsafeBufferPointer { scratchBytes in
            let base = UnsafeRawPointer(scratchBytes.baseAddress)
            var pointers = [UnsafePointer<CChar>?]()
            pointers.reserveCapacity(arguments.count)
            var offset = 0
            for length in lengths {
                // A zero-length argument still needs a valid pointer; hiredis reads 0 bytes from it.
                let pointer = (base ?? UnsafeRawPointer(bitPattern: 1)!).advanced(by: base == nil ? 0 : offset)
                pointers.append(pointer.assumingMemoryBound(to: CChar.self))
                offset += length
            }
            var target: UnsafeMutablePointer<CChar>? = nil
            let written = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvLengths in
                    redisFormatCommandArgv(&target, Int32(arguments.count), argv.baseAddress, argvLengths.baseAddress)
                }
            }
            guard written >= 0, let target else {
                fatalError("hiredis could not format a command (out of memory)")
            }
            defer { redisFreeCommand(target) }
            output.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(written)))
        }
    }
}
