import Foundation
import NIOConcurrencyHelpers
import NIOCore

import NIOPosix

/// The resolve's own keep-alive HTTP/1.1 connections to sessiond, straight on SwiftNIO.
///
/// A resolve runs on every request of every microservice, so its per-call cost matters more than
/// anything else in the client. AsyncHTTPClient, which serves every other call, spends most of a
/// resolve in its general machinery (URL and request validation, its pool's state machines,
/// streaming bodies, tracing hooks). This transport does one thing: send the one fixed-shape `GET
/// /v1/session` (pre-encoded; only the token changes) on an idle keep-alive connection (one request
/// at a time per connection, no pipelining) and read the answer with ``ResolveResponseParser``.
/// Used for `http://` base URLs; an `https://` sessiond is resolved through AsyncHTTPClient.
final class ResolveTransport: Sendable {
    typealias Response = ResolveResponseParser.Response

    private let host: String
    private let port: Int
    /// The request up to the `Authorization` value; the caller's credential, the token and a blank
    /// line complete it.
    private let requestPrefix: ByteBuffer
    private let connectTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private let pool: ResolvePool
    /// Every resolve connection lives on one event loop: responses for many callers are read and
    /// handed off in one loop iteration.
    private let eventLoop: any EventLoop

    /// `nil` unless `baseURL` is a plain `http://` URL.
    init?(
        baseURL: String,
        maximumConnections: Int,
        maximumWaiters: Int,
        connectTimeout: TimeAmount,
        requestTimeout: TimeAmount
    ) {
        guard let url = URL(string: baseURL), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty else {
            return nil
        }
        self.host = host
        self.port = url.port ?? 80
        let hostHeader = host.contains(":") ? "[\(host)]" : host
        let hostValue = url.port.map { "\(hostHeader):\($0)" } ?? hostHeader
        // Every part is fixed here: the URL parsed; the credential (checked by the client when it is
        // configured or received) and the token (checked by the caller) are added per request.
        guard (hostValue + url.path).utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        self.requestPrefix = ByteBuffer(string: "GET \(url.path)/v1/session HTTP/1.1\r\nHost: \(hostValue)\r\nAuthorization: ")
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        self.pool = ResolvePool(maximum: max(1, maximumConnections), maximumWaiters: max(0, maximumWaiters), eventLoop: self.eventLoop)
    }

    /// sessiond's answer to `GET /v1/session` with `token` (which the caller has checked: printable
    /// ASCII), passed through `accept` while the connection is still held: when `accept` throws (the
    /// answer cannot be sessiond's answer to this question), the connection is closed, never reused.
    ///
    /// One deadline (the request timeout) covers waiting for a connection, the request and its one
    /// retry; cancelling the calling task frees its place in the queue at once.
    func resolve<T>(token: String, authorization: String, accept: (Response) throws -> T) async throws -> T {
        var request = self.requestPrefix
        request.writeString(authorization)
        request.writeStaticString("\r\nX-Session-Token: ")
        request.writeString(token)
        request.writeStaticString("\r\n\r\n")
        let deadline = NIODeadline.now() + self.requestTimeout
        // A keep-alive connection may have been closed by sessiond's idle timeout just now: a GET is
        // safe to send again once, on a new connection.
        for attempt in 0..<2 {
            let connection = try await self.lease(fresh: attempt > 0, deadline: deadline)
            let response: Response
            do {
                response = try await connection.send(request, deadline: deadline).get()
            } catch let error as ResolveTransportError {
                self.pool.release(connection, reusable: false)
                if error.staleKeepAlive, attempt == 0, deadline > .now() { continue }
                throw SessionClientError(.unavailable, message: "sessiond unreachable: \(error.message)")
            } catch {
                self.pool.release(connection, reusable: false)
                throw SessionClientError(.unavailable, message: "sessiond unreachable: \(error)")
            }
            do {
                let accepted = try accept(response)
                self.pool.release(connection, reusable: response.keepAlive)
                return accepted
            } catch {
                self.pool.release(connection, reusable: false)
                throw error
            }
        }
        throw SessionClientError(.unavailable, message: "sessiond closed the connection")
    }

    /// Callers waiting for a connection.
    var waiting: Int { self.pool.waiting }

    /// Closes every connection.
    func shutdown() async {
        for connection in self.pool.shutdown() {
            try? await connection.channel.close()
        }
    }

    private func lease(fresh: Bool, deadline: NIODeadline) async throws -> ResolveConnection {
        switch try await self.pool.lease(fresh: fresh, deadline: deadline) {
        case .reuse(let connection):
            return connection
        case .connect:
            do {
                return try await self.connect(timeout: min(self.connectTimeout, deadline - .now()))
            } catch {
                self.pool.connectFailed()
                throw SessionClientError(.unavailable, message: "sessiond unreachable: cannot connect to \(self.host):\(self.port): \(error)")
            }
        }
    }

    private func connect(timeout: TimeAmount) async throws -> ResolveConnection {
        guard timeout > .zero else { throw ResolveTransportError.timedOut }
        let channel = try await ClientBootstrap(group: self.eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ResolveResponseHandler())
                }
            }
            .connect(host: self.host, port: self.port)
            .get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: ResolveResponseHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return ResolveConnection(channel: channel, handler: handler)
    }
}

struct ResolveTransportError: Error, Equatable {
    let message: String
    /// The connection had answered earlier requests: sessiond may have closed it as idle just now.
    var staleKeepAlive = false

    static func closedBeforeResponse(reused: Bool) -> Self {
        Self(message: "connection closed before the response", staleKeepAlive: reused)
    }
    static let timedOut = Self(message: "request timed out")
}

/// One keep-alive connection; one request at a time.
final class ResolveConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<ResolveResponseHandler>

    init(channel: any Channel, handler: NIOLoopBound<ResolveResponseHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Sends `request`; the future fails with ``ResolveTransportError/closedBeforeResponse`` (plus whether
    /// the connection had served a request before) or ``ResolveTransportError/timedOut``.
    func send(_ request: ByteBuffer, deadline: NIODeadline) -> EventLoopFuture<ResolveTransport.Response> {
        let promise = self.channel.eventLoop.makePromise(of: ResolveTransport.Response.self)
        if self.channel.eventLoop.inEventLoop {
            self.handler.value.send(request, promise: promise, deadline: deadline)
        } else {
            let handler = self.handler
            self.channel.eventLoop.execute { handler.value.send(request, promise: promise, deadline: deadline) }
        }
        return promise.futureResult
    }
}

/// Writes a request and assembles its response.
///
/// One timer per connection, not per request: it is armed when a request starts and none is armed,
/// and when it fires it either fails the request past its deadline (closing the connection, whose
/// late reply would otherwise answer the next request) or re-arms for the current deadline.
final class ResolveResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var promise: EventLoopPromise<ResolveTransport.Response>?
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var requests = 0
    private var parser = ResolveResponseParser()

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func send(_ request: ByteBuffer, promise: EventLoopPromise<ResolveTransport.Response>, deadline: NIODeadline) {
        guard let context, context.channel.isActive, self.promise == nil else {
            promise.fail(ResolveTransportError.closedBeforeResponse(reused: self.requests > 0))
            return
        }
        self.requests += 1
        self.promise = promise
        self.deadline = deadline
        if self.timer == nil { self.arm(at: deadline, context: context) }
        context.writeAndFlush(self.wrapOutboundOut(request), promise: nil)
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            guard self.promise != nil else { return }
            if self.deadline <= .now() {
                self.fail(ResolveTransportError.timedOut)
                context.close(promise: nil)
            } else {
                self.arm(at: self.deadline, context: context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        guard self.promise != nil else {
            // Nothing was asked: a stray or late answer. This connection cannot be trusted.
            context.close(promise: nil)
            return
        }
        do {
            guard let response = try self.parser.feed(&bytes) else { return }
            let promise = self.promise
            self.promise = nil
            promise?.succeed(response)
        } catch {
            self.fail(ResolveTransportError(message: "malformed response: \(error.reason)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // On a connection that served earlier requests, a reset usually means sessiond closed it as
        // idle while this request was on its way: safe to send again on a new connection (GET).
        self.fail(ResolveTransportError(message: "\(error)", staleKeepAlive: self.requests > 1))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.fail(ResolveTransportError.closedBeforeResponse(reused: self.requests > 1))
        context.fireChannelInactive()
    }

    private func fail(_ error: ResolveTransportError) {
        let promise = self.promise
        self.promise = nil
        promise?.fail(error)
    }
}

/// Idle connections (most recently used first) and a bound on open ones; callers beyond the bound
/// wait for a connection to come back, in order, each until its own deadline, and at most
/// `maximumWaiters` of them: one more is refused at once (``SessionClientError/Code/overloaded``),
/// so a stalled sessiond never grows a queue without bound. A waiter whose task is cancelled leaves
/// the queue at once.
final class ResolvePool: Sendable {
    enum Lease {
        case reuse(ResolveConnection)
        case connect
    }

    private struct State {
        var idle: [ResolveConnection] = []
        var open = 0
        /// Waiters by ticket; `order` holds tickets first come first served (removed ones are skipped).
        var waiters: [UInt64: CheckedContinuation<Lease, any Error>] = [:]
        var order: [UInt64] = []
        var nextTicket: UInt64 = 0
        /// Tickets issued whose continuation is not stored yet, and those of them already cancelled.
        var pending: Set<UInt64> = []
        var abandoned: Set<UInt64> = []
        var isShutDown = false

        /// The longest-waiting caller still waiting.
        mutating func popWaiter() -> CheckedContinuation<Lease, any Error>? {
            while !self.order.isEmpty {
                let ticket = self.order.removeFirst()
                if let waiter = self.waiters.removeValue(forKey: ticket) { return waiter }
            }
            return nil
        }
    }

    private let maximum: Int
    private let maximumWaiters: Int
    private let eventLoop: any EventLoop
    private let state = NIOLockedValueBox(State())

    init(maximum: Int, maximumWaiters: Int, eventLoop: any EventLoop) {
        self.maximum = maximum
        self.maximumWaiters = maximumWaiters
        self.eventLoop = eventLoop
    }

    /// Callers waiting for a connection.
    var waiting: Int { self.state.withLockedValue { $0.waiters.count } }

    func lease(fresh: Bool, deadline: NIODeadline) async throws -> Lease {
        enum Decision {
            case lease(Lease)
            case wait(UInt64)
            case fail(SessionClientError)
        }
        let decision: Decision = self.state.withLockedValue { state in
            if state.isShutDown { return .fail(SessionClientError(.unavailable, message: "the client was shut down")) }
            while !fresh, let connection = state.idle.popLast() {
                if connection.channel.isActive { return .lease(.reuse(connection)) }
                state.open -= 1
            }
            if state.open < self.maximum {
                state.open += 1
                return .lease(.connect)
            }
            guard state.waiters.count < self.maximumWaiters else {
                return .fail(SessionClientError(.overloaded, message: "\(self.maximumWaiters) callers already wait for a connection to sessiond"))
            }
            state.nextTicket += 1
            state.pending.insert(state.nextTicket)
            return .wait(state.nextTicket)
        }
        switch decision {
        case .lease(let lease): return lease
        case .fail(let error): throw error
        case .wait(let ticket):
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                    let refusal: (any Error)? = self.state.withLockedValue { state in
                        state.pending.remove(ticket)
                        if state.abandoned.remove(ticket) != nil { return CancellationError() }
                        if state.isShutDown { return SessionClientError(.unavailable, message: "the client was shut down") }
                        state.waiters[ticket] = continuation
                        state.order.append(ticket)
                        return nil
                    }
                    if let refusal {
                        continuation.resume(throwing: refusal)
                        return
                    }
                    self.eventLoop.scheduleTask(deadline: deadline) {
                        self.abandon(ticket, error: SessionClientError(.unavailable, message: "timed out waiting for a connection to sessiond"))
                    }
                }
            } onCancel: {
                self.abandon(ticket, error: CancellationError())
            }
        }
    }

    /// Takes waiter `ticket` out of the queue (timed out or cancelled) and fails it.
    private func abandon(_ ticket: UInt64, error: any Error) {
        let waiter: CheckedContinuation<Lease, any Error>? = self.state.withLockedValue { state in
            if let waiter = state.waiters.removeValue(forKey: ticket) { return waiter }
            // Cancelled before the continuation was stored: refuse it when it arrives.
            if state.pending.contains(ticket) { state.abandoned.insert(ticket) }
            return nil
        }
        waiter?.resume(throwing: error)
    }

    /// Returns a connection; a connection that cannot be reused is closed and its slot freed.
    func release(_ connection: ResolveConnection, reusable: Bool) {
        let keep = reusable && connection.channel.isActive
        let waiter: (CheckedContinuation<Lease, any Error>, Lease)? = self.state.withLockedValue { state in
            if state.isShutDown {
                state.open -= 1
                return nil
            }
            if let waiter = state.popWaiter() {
                // The slot passes to the waiter: with this connection, or to open a new one.
                return (waiter, keep ? .reuse(connection) : .connect)
            }
            if keep {
                state.idle.append(connection)
            } else {
                state.open -= 1
            }
            return nil
        }
        if !keep || self.state.withLockedValue({ $0.isShutDown }) { connection.channel.close(promise: nil) }
        if let (continuation, lease) = waiter { continuation.resume(returning: lease) }
    }

    /// A connect for a leased slot failed: free the slot (or pass it to a waiter).
    func connectFailed() {
        let waiter: CheckedContinuation<Lease, any Error>? = self.state.withLockedValue { state in
            if let waiter = state.popWaiter() { return waiter }
            state.open -= 1
            return nil
        }
        waiter?.resume(returning: .connect)
    }

    /// Marks the pool shut down; the idle connections to close, waiters failed.
    func shutdown() -> [ResolveConnection] {
        let (idle, waiters) = self.state.withLockedValue { state in
            state.isShutDown = true
            let result = (state.idle, Array(state.waiters.values))
            state.open -= state.idle.count
            state.idle = []
            state.waiters = [:]
            state.order = []
            return result
        }
        for waiter in waiters { waiter.resume(throwing: SessionClientError(.unavailable, message: "the client was shut down")) }
        return idle
    }
}
