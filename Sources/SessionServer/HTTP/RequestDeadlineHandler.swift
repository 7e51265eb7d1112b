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

    /// Watches raw bytes; arms the deadline at the first byte of each request.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let timeout: TimeAmount
        private var deadline: Scheduled<Void>?

        init(timeout: TimeAmount) {
            self.timeout = timeout
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if self.deadline == nil {
                self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
                    context.close(promise: nil)
                }
            }
            context.fireChannelRead(data)
        }

        func requestCompleted() {
            self.deadline?.cancel()
            self.deadline = nil
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.requestCompleted()
            context.fireChannelInactive()
        }
    }
}
