import NIOCore
import NIOHTTP1

/// The connection rules both of sessiond's paths (the fast path and the router) obey, in one handler
/// that sees every request and every response whichever path answered:
///
/// **Persistence.** Every response is `HTTP/1.1` (RFC 9110 §6.2: the highest version the server
/// conforms to). A request that does not keep the connection alive (`Connection: close`, or HTTP/1.0
/// without `Connection: keep-alive`) gets `Connection: close`, the connection closes once the answer
/// is written, and nothing read after that request runs, not even a request pipelined behind it. An
/// HTTP/1.0 request with `Connection: keep-alive` gets `Connection: keep-alive`, so the client knows
/// it may send another.
///
/// **Timeouts.** Closes connections that take too long to send a request (slowloris defence) or sit
/// idle too long.
///
/// An idle timeout alone does not stop a client that dribbles one header byte every few seconds: it is
/// never idle. So two clocks run per connection: the *read* clock from the first byte of a request to
/// its end, and the *idle* clock from the end of the last response to the next byte. The raw-byte half
/// (``ByteWatcher``) sits first in the pipeline and sees bytes arrive; this half sits after the HTTP
/// decoder and sees requests end and responses end, whichever path (router or fast path) answered.
/// One timer per connection, re-armed lazily, keeps the cost off the per-request path.
final class ConnectionPolicyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: ByteWatcher
    /// Whether the request being answered keeps the connection, and whether it spoke HTTP/1.0.
    private var current: (keepAlive: Bool, isHTTP10: Bool) = (true, false)
    /// Set at the end of a request that ends the connection: later input is discarded.
    private var isClosing = false

    init(readTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.state = ByteWatcher(readTimeout: readTimeout, idleTimeout: idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(self.state, position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.isClosing { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.state.requestBegan()
            self.current = (head.isKeepAlive, head.version.major == 1 && head.version.minor == 0)
        case .end:
            self.state.requestArrived()
            // The last request of this connection is complete; whatever follows is never run.
            if !self.current.keepAlive { self.isClosing = true }
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head):
            head.version = .http1_1
            if !self.current.keepAlive {
                head.headers.replaceOrAdd(name: "Connection", value: "close")
            } else if self.current.isHTTP10 {
                head.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
            } else if head.headers.contains(name: "connection") {
                head.headers.remove(name: "connection")
            }
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            self.state.responseEnded()
            if self.current.keepAlive {
                context.write(data, promise: promise)
            } else {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .body:
            context.write(data, promise: promise)
        }
    }

    /// The per-connection clocks and their timer.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let readTimeout: TimeAmount
        private let idleTimeout: TimeAmount
        /// When the bytes of a not yet complete request began to arrive.
        private var requestStartedAt: NIODeadline?
        /// Requests read whose response has not ended.
        private var awaitingResponse = 0
        /// When the connection went idle (no request pending, no response owed).
        private var idleSince: NIODeadline?
        private var timer: Scheduled<Void>?
        private var context: ChannelHandlerContext?

        init(readTimeout: TimeAmount, idleTimeout: TimeAmount) {
            self.readTimeout = readTimeout
            self.idleTimeout = idleTimeout
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
            if context.channel.isActive { self.start() }
        }

        func channelActive(context: ChannelHandlerContext) {
            self.start()
            context.fireChannelActive()
        }

        private func start() {
            guard self.idleSince == nil, self.timer == nil else { return }
            let now = NIODeadline.now()
            self.idleSince = now
            self.arm(at: now + self.idleTimeout)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if self.requestStartedAt == nil {
                self.requestStartedAt = .now()
            }
            self.idleSince = nil
            context.fireChannelRead(data)
        }

        func requestBegan() {
            self.awaitingResponse += 1
        }

        func requestArrived() {
            self.requestStartedAt = nil
        }

        func responseEnded() {
            self.awaitingResponse = max(0, self.awaitingResponse - 1)
            if self.awaitingResponse == 0, self.requestStartedAt == nil {
                self.idleSince = .now()
            }
        }

        /// The earliest moment a clock runs out; while the server works on a request, neither runs.
        private var nextDeadline: NIODeadline {
            var deadline = NIODeadline.distantFuture
            if let started = self.requestStartedAt { deadline = min(deadline, started + self.readTimeout) }
            if let idle = self.idleSince { deadline = min(deadline, idle + self.idleTimeout) }
            return deadline
        }

        /// The one timer of the connection. It never sleeps longer than the read timeout: a request
        /// that starts arriving at any moment is then looked at again within one read timeout, and
        /// at that look the timer is set to the request's own deadline. So a slow request head is
        /// cut off at its read deadline (not at the end of an idle period that was armed before its
        /// first byte), with no timer per request: an idle connection wakes once per read timeout.
        private func arm(at deadline: NIODeadline) {
            guard let context = self.context else { return }
            let wake = min(deadline, .now() + self.readTimeout)
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: wake) {
                self.timer = nil
                let deadline = self.nextDeadline
                if deadline <= .now() {
                    context.close(promise: nil)
                } else {
                    self.arm(at: deadline)
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.timer?.cancel()
            self.timer = nil
            self.requestStartedAt = nil
            self.idleSince = nil
            context.fireChannelInactive()
        }
    }
}
