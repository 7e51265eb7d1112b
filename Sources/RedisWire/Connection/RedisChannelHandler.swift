import NIOCore

/// A command on its way to the handler: encoded bytes, the promise for its reply and its deadline.
struct RedisRequest: Sendable {
    var payload: ByteBuffer
    var promise: EventLoopPromise<RESPValue>
    var deadline: NIODeadline
}

/// Pipelines commands on one connection and matches replies to them in order.
///
/// - Writes are coalesced: the handler flushes once per event-loop tick, not once per command.
/// - A command that misses its deadline fails alone: its place in the reply queue stays, so its late
///   reply is read and dropped, and the commands behind it still get their own replies. No reply can
///   reach the wrong caller, because replies are matched by position and positions never shift.
/// - The connection is closed as dead only when the oldest unanswered command is overdue by more
///   than `deadAfter` (a slow `DEL` or a fork stalls one reply for a while; a dead peer never answers).
///   Then every command in flight fails.
/// - One timer per connection; when the connection dies, every pending promise fails.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case active
        case closed(any Error)
    }

    private struct Pending {
        /// nil once the command has timed out: its reply is read and dropped.
        var promise: EventLoopPromise<RESPValue>?
        var deadline: NIODeadline
    }

    private var state: State = .active
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private let reader: HiredisReader
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private var timeoutTimer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// Receives pub/sub `message`/`pmessage` pushes; when `nil`, such replies are treated as ordinary replies.
    private let onPush: (@Sendable (RESPValue) -> Void)?
    /// How long past its deadline the oldest unanswered command may stay before the connection is dead.
    private let deadAfter: TimeAmount

    init(maximumReplyBytes: Int = 512 * 1024 * 1024, deadAfter: TimeAmount = .seconds(2), onPush: (@Sendable (RESPValue) -> Void)? = nil) {
        self.reader = HiredisReader(maximumBufferedBytes: maximumReplyBytes)
        self.deadAfter = deadAfter
        self.onPush = onPush
    }

    /// Number of commands in flight (for tests and pool statistics).
    var inFlightCount: Int { self.pending.count }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.failAll(RedisClientError.connectionClosed)
        self.context = nil
    }

    /// Queues a command. Must be called on the channel's event loop.
    func enqueue(_ request: RedisRequest) {
        guard case .active = self.state, let context = self.context else {
            if case .closed(let error) = self.state {
                request.promise.fail(error)
            } else {
                request.promise.fail(RedisClientError.connectionClosed)
            }
            return
        }
        self.pending.append(Pending(promise: request.promise, deadline: request.deadline))
        if let timerDeadline = self.timerDeadline, timerDeadline <= request.deadline {
            // The armed timer fires no later than this command's deadline.
        } else {
            self.armTimer(context: context, deadline: request.deadline)
        }
        context.write(self.wrapOutboundOut(request.payload), promise: nil)
        if !self.flushScheduled {
            self.flushScheduled = true
            context.eventLoop.assumeIsolated().execute {
                self.flushScheduled = false
                self.context?.flush()
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        do {
            try self.reader.feed(buffer)
            while let reply = try self.reader.next() {
                self.deliver(reply, context: context)
            }
        } catch {
            self.failAndClose(RedisClientError(.protocolViolation, error.message), context: context)
        }
    }

    private func deliver(_ reply: RESPValue, context: ChannelHandlerContext) {
        if let onPush = self.onPush, Self.isPush(reply) {
            onPush(reply)
            return
        }
        guard let head = self.pending.popFirst() else {
            self.failAndClose(RedisClientError(.protocolViolation, "unexpected reply with no command in flight"), context: context)
            return
        }
        // A timed-out command's late reply is dropped here; the next reply belongs to the next command.
        head.promise?.succeed(reply)
    }

    private static func isPush(_ reply: RESPValue) -> Bool {
        guard case .array(let elements) = reply, let first = elements.first, case .bulkString(let kind) = first else {
            return false
        }
        return kind.readableBytesView.elementsEqual("message".utf8) || kind.readableBytesView.elementsEqual("pmessage".utf8)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisClientError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAndClose(RedisClientError(.connectionClosed, "connection error: \(error)"), context: context)
    }

    private func armTimer(context: ChannelHandlerContext, deadline: NIODeadline) {
        self.timeoutTimer?.cancel()
        self.timerDeadline = deadline
        self.timeoutTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timeoutTimer = nil
            self.timerDeadline = nil
            self.checkDeadlines()
        }
    }

    /// Runs when the timer fires: fails the commands past their deadline (keeping their places), and
    /// closes the connection when the oldest unanswered command is overdue by more than `deadAfter`.
    private func checkDeadlines() {
        guard let context = self.context, case .active = self.state, let oldest = self.pending.first else { return }
        let now = context.eventLoop.now
        if oldest.deadline + self.deadAfter <= now {
            self.failAndClose(RedisClientError(.commandTimeout, "no reply for \(self.deadAfter.nanoseconds / 1_000_000) ms past a deadline: connection dead"), context: context)
            return
        }
        var next = oldest.deadline + self.deadAfter
        for index in self.pending.indices {
            guard let promise = self.pending[index].promise else { continue }
            if self.pending[index].deadline <= now {
                self.pending[index].promise = nil
                promise.fail(RedisClientError.commandTimeout)
            } else if self.pending[index].deadline < next {
                next = self.pending[index].deadline
            }
        }
        self.armTimer(context: context, deadline: next)
    }

    private func failAndClose(_ error: any Error, context: ChannelHandlerContext) {
        self.failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        if case .active = self.state {
            self.state = .closed(error)
        }
        self.timeoutTimer?.cancel()
        self.timeoutTimer = nil
        self.timerDeadline = nil
        while let entry = self.pending.popFirst() {
            entry.promise?.fail(error)
        }
    }
}
