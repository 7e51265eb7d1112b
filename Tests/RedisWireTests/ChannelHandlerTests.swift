import NIOCore
import NIOEmbedded
import RedisTestSupport
import Testing

@testable import RedisWire

@Suite struct ChannelHandlerTests {
    private func makeChannel() throws -> (EmbeddedChannel, RedisChannelHandler) {
        let handler = RedisChannelHandler()
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 6379)).wait()
        return (channel, handler)
    }

    @Test func manyPipelinedRepliesInOneReadReachTheirCallersInOrder() throws {
        let (channel, handler) = try self.makeChannel()
        var futures: [EventLoopFuture<RESPValue>] = []
        for index in 0..<200 {
            let promise = channel.eventLoop.makePromise(of: RESPValue.self)
            handler.enqueue(RedisRequest(payload: RedisCommand("ECHO", RedisArgument(index)).encoded, promise: promise, deadline: .distantFuture))
            futures.append(promise.futureResult)
        }
        channel.embeddedEventLoop.run()
        // Writes were coalesced: all 200 commands went out, in order.
        var written = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&chunk) }
        #expect(String(buffer: written).hasPrefix("*2\r\n$4\r\nECHO\r\n$1\r\n0\r\n*2\r\n$4\r\nECHO\r\n$1\r\n1\r\n"))
        #expect(handler.inFlightCount == 200)

        var replies = ByteBuffer()
        for index in 0..<200 { replies.writeString("$\(String(index).utf8.count)\r\n\(index)\r\n") }
        try channel.writeInbound(replies)
        for (index, future) in futures.enumerated() {
            #expect(try future.wait().string == String(index))
        }
        #expect(handler.inFlightCount == 0)
    }

    @Test func errorRepliesAreDeliveredToTheirOwnCaller() throws {
        let (channel, handler) = try self.makeChannel()
        let first = channel.eventLoop.makePromise(of: RESPValue.self)
        let second = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "a").encoded, promise: first, deadline: .distantFuture))
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "b").encoded, promise: second, deadline: .distantFuture))
        try channel.writeInbound(ByteBuffer(string: "-WRONGTYPE Operation against a key\r\n$1\r\nb\r\n"))
        #expect(try first.futureResult.wait() == .error(RedisServerError(message: "WRONGTYPE Operation against a key")))
        #expect(try second.futureResult.wait().string == "b")
    }

    @Test func protocolViolationFailsEveryPendingCommandAndClosesTheConnection() throws {
        let (channel, handler) = try self.makeChannel()
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        for promise in promises {
            handler.enqueue(RedisRequest(payload: RedisCommand("PING").encoded, promise: promise, deadline: .distantFuture))
        }
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n!!garbage\r\n"))
        #expect(try promises[0].futureResult.wait() == .simpleString("PONG"))
        for promise in promises.dropFirst() {
            #expect(throws: RedisClientError(.protocolViolation, "")) { try promise.futureResult.wait() }
        }
        #expect(!channel.isActive)
    }

    @Test func unsolicitedReplyClosesTheConnection() throws {
        let (channel, _) = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func closingTheConnectionFailsCommandsInFlight() throws {
        let (channel, handler) = try self.makeChannel()
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "k").encoded, promise: promise, deadline: .distantFuture))
        _ = try channel.finish()
        #expect(throws: RedisClientError.connectionClosed) { try promise.futureResult.wait() }
        // A command after the close fails at once instead of hanging.
        let late = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "k").encoded, promise: late, deadline: .distantFuture))
        #expect(throws: RedisClientError.self) { try late.futureResult.wait() }
    }

    @Test func pubSubPushesBypassTheReplyQueue() throws {
        let received = PushBox()
        let handler = RedisChannelHandler(onPush: { received.append($0) })
        let channel = EmbeddedChannel(handler: handler)
        let ack = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("SUBSCRIBE", "c").encoded, promise: ack, deadline: .distantFuture))
        try channel.writeInbound(
            ByteBuffer(string: "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n")
        )
        #expect(try ack.futureResult.wait().array?.first?.string == "subscribe")
        #expect(received.values.count == 1)
        #expect(received.values.first?.array?.last?.string == "hi")
    }
}

final class PushBox: @unchecked Sendable {
    // EmbeddedChannel delivers on the test's own thread; no lock needed.
    var values: [RESPValue] = []
    func append(_ value: RESPValue) { self.values.append(value) }

    /// Many commands in flight, timeouts in the middle: each timed-out command fails alone, its late
    /// reply is dropped, and every other command gets exactly its own reply.
    @Test(arguments: [1, 2, 3])
    func aTimeoutFailsOnlyItsCommandAndNoReplyReachesTheWrongCaller(seed: UInt64) throws {
        let handler = RedisChannelHandler(deadAfter: .seconds(10))
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 6379)).wait()
        var generator = SplitMix64(seed: seed)
        let start = channel.embeddedEventLoop.now
        var futures: [(index: Int, timesOut: Bool, future: EventLoopFuture<RESPValue>)] = []
        for index in 0..<300 {
            let timesOut = Int.random(in: 0..<4, using: &generator) == 0
            let deadline = timesOut ? start + .milliseconds(Int64.random(in: 1...100, using: &generator)) : start + .seconds(5)
            let promise = channel.eventLoop.makePromise(of: RESPValue.self)
            handler.enqueue(RedisRequest(payload: RedisCommand("ECHO", RedisArgument(index)).encoded, promise: promise, deadline: deadline))
            futures.append((index, timesOut, promise.futureResult))
        }
        // Some replies arrive before the timeouts, the rest after.
        let early = Int.random(in: 0..<50, using: &generator)
        var replies = ByteBuffer()
        for index in 0..<early { replies.writeString("$\(String(index).utf8.count)\r\n\(index)\r\n") }
        try channel.writeInbound(replies)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        replies = ByteBuffer()
        for index in early..<300 { replies.writeString("$\(String(index).utf8.count)\r\n\(index)\r\n") }
        try channel.writeInbound(replies)
        #expect(channel.isActive, "a timeout closed the connection")
        for entry in futures {
            do {
                let reply = try entry.future.wait()
                #expect(reply.string == String(entry.index), "command \(entry.index) got another command's reply")
                #expect(!entry.timesOut || entry.index < early)
            } catch let error as RedisClientError {
                #expect(error.code == .commandTimeout)
                #expect(entry.timesOut && entry.index >= early, "command \(entry.index) failed without timing out")
            }
        }
        #expect(handler.inFlightCount == 0)
        // The connection still works.
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("PING").encoded, promise: promise, deadline: .distantFuture))
        try channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(try promise.futureResult.wait() == .simpleString("PONG"))
    }

    /// When the oldest unanswered command is overdue by more than the dead-connection threshold, the
    /// connection is closed and everything in flight fails.
    @Test func aConnectionSilentPastTheThresholdIsClosed() throws {
        let handler = RedisChannelHandler(deadAfter: .milliseconds(500))
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 6379)).wait()
        let start = channel.embeddedEventLoop.now
        let first = channel.eventLoop.makePromise(of: RESPValue.self)
        let second = channel.eventLoop.makePromise(of: RESPValue.self)
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "a").encoded, promise: first, deadline: start + .milliseconds(100)))
        handler.enqueue(RedisRequest(payload: RedisCommand("GET", "b").encoded, promise: second, deadline: start + .seconds(30)))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(150))
        #expect(throws: RedisClientError.self) { try first.futureResult.wait() }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
        #expect(throws: RedisClientError.self) { try second.futureResult.wait() }
        #expect(!channel.isActive)
    }
}
