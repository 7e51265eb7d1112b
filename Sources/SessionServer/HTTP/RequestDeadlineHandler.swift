import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes connections whose request does not arrive in full within a deadline (slowloris defence).
///
/// Hummingbird's idle timeout alone does not help: a client that dribbles one header byte every few
/// seconds is never idle. This handler pair measures from the first byte of a request to its end:
/// the raw-byte half sits first in the pipeline and arms a timer when bytes arrive while no request is
/// in progress; the parts half (after the HTTP codec) disarms it when the request's `.end` arrives.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private let state: ByteWatcher

    init(timeout: TimeAmount) {
        self.timeout = timeout
        self.state = ByteWatcher(timeout: timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(self.state, position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = self.unwrapInboundIn(data) {
            self.state.requestCompleted()
        }
        context.fireChannelRead(data)
    }

    /// Watches raw bytes and notes when each request began. One timer per connection, armed only while
    /// a request is in progress and not re-armed per request, keeps the cost off the hot path.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let timeout: TimeAmount
        private var requestStartedAt: NIODeadline?
        private var timer: Scheduled<Void>?
        private var context: ChannelHandlerContext?

        init(timeout: TimeAmount) {
            self.timeout = timeout
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if self.requestStartedAt == nil {
                let now = NIODeadline.now()
                self.requestStartedAt = now
                if self.timer == nil { self.arm(at: now + self.timeout) }
            }
            context.fireChannelRead(data)
        }

        func requestCompleted() {
            self.requestStartedAt = nil
        }

        private func arm(at deadline: NIODeadline) {
            guard let context = self.context else { return }
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.timer = nil
                guard let started = self.requestStartedAt else { return }
                let deadline = started + self.timeout
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
            context.fireChannelInactive()
        }
    }
}
