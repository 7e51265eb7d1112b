import NIOCore
import NIOHTTP1

/// HTTP/1 persistence for both of sessiond's paths (the fast path and the router), in one place.
///
/// It sits after `HTTPServerPipelineHandler` (one request at a time) and before ``FastPath``, so it
/// sees every request and every response whichever path answered:
/// - every response is `HTTP/1.1` (RFC 9110 §6.2: the highest version the server conforms to);
/// - a request that does not keep the connection alive (`Connection: close`, or HTTP/1.0 without
///   `Connection: keep-alive`) gets `Connection: close`, the connection closes once the answer is
///   written, and nothing read after that request runs, not even a request pipelined behind it;
/// - an HTTP/1.0 request with `Connection: keep-alive` gets `Connection: keep-alive`, so the client
///   knows it may send another.
final class KeepAliveHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether the request being answered keeps the connection, and whether it spoke HTTP/1.0.
    private var current: (keepAlive: Bool, isHTTP10: Bool) = (true, false)
    /// Set at the end of a request that ends the connection: later input is discarded.
    private var isClosing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.isClosing { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.current = (head.isKeepAlive, head.version.major == 1 && head.version.minor == 0)
        case .end where !self.current.keepAlive:
            // The last request of this connection is complete; whatever follows is never run.
            self.isClosing = true
        case .body, .end:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(var head):
            head.version = .http1_1
            head.headers.remove(name: "connection")
            if !self.current.keepAlive {
                head.headers.add(name: "Connection", value: "close")
            } else if self.current.isHTTP10 {
                head.headers.add(name: "Connection", value: "keep-alive")
            }
            context.write(self.wrapOutboundOut(.head(head)), promise: promise)
        case .end:
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
}
