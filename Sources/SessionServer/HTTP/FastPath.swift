import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import SessionCore

/// Answers the two requests that dominate sessiond's traffic without the router: `GET /v1/session`
/// (every microservice, on every one of its own requests) and `POST /v1/sessions` (every sign-in).
///
/// It takes a request only when it can answer it exactly as the router would:
/// - `GET /v1/session`: no body, one `Authorization` naming a key with `sessions:read`, one
///   well-formed token (header or cookie);
/// - `POST /v1/sessions`: a `Content-Length` body within the limit, `Content-Type: application/json`,
///   one `Authorization` naming a key with `sessions:create`.
///
/// Anything else (401, 403, 415, 413 by length, chunked bodies, malformed tokens, other routes and
/// methods) passes through untouched to Hummingbird. Both paths share the handlers' code, the error
/// bodies, the log line and the metrics, so a caller cannot tell which one answered. The
/// `HTTPServerPipelineHandler` in front keeps pipelined requests in order: the next request is not
/// read until this response has ended.
///
/// The work runs in a task pinned to the connection's event loop, whose Redis connection lives on the
/// same loop: request, Redis round trip and response never change threads.
final class FastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What every connection's fast path shares.
    struct Service: Sendable {
        let routes: SessionRoutes
        let authenticator: CallerAuthenticator
        let requestLog: RequestLog
        let logger: Logger

        /// The request, if the fast path answers it.
        func accept(_ head: HTTPRequestHead) -> Accepted? {
            let headers = head.headers
            guard !headers.contains(name: "transfer-encoding"), !headers.contains(name: "expect") else { return nil }
            let lengths = headers["content-length"]
            guard lengths.count <= 1 else { return nil }
            // No Content-Length: no body. An unparsable one: nil, and the router answers.
            let length: Int? = lengths.isEmpty ? 0 : Int(lengths[0])
            let authorization = headers["authorization"]
            guard authorization.count == 1 else { return nil }
            switch (head.method, head.uri) {
            case (.GET, "/v1/session"):
                guard length == 0, let caller = self.caller(authorization[0], .read) else { return nil }
                let tokenHeader = headers["x-session-token"]
                guard tokenHeader.count <= 1,
                    let token = SessionRoutes.token(
                        header: tokenHeader.first,
                        cookieHeaders: headers["cookie"],
                        cookieName: self.routes.configuration.cookie.name
                    )
                else { return nil }
                return Accepted(work: .resolve(token), route: "/v1/session", head: head, caller: caller)
            case (.POST, "/v1/sessions"):
                guard let length, length > 0, length <= self.routes.configuration.limits.maximumBodyBytes,
                    headers["content-type"].count == 1, SessionRoutes.isJSON(contentType: headers["content-type"][0]),
                    let caller = self.caller(authorization[0], .create)
                else { return nil }
                return Accepted(work: .create(length: length), route: "/v1/sessions", head: head, caller: caller)
            default:
                return nil
            }
        }

        /// The caller, when it has `scope` (before a token's revocation check, which ``answer`` makes).
        private func caller(_ authorization: String, _ scope: Scope) -> Caller? {
            guard let caller = self.authenticator.presentedCaller(authorization: authorization), caller.scopes.contains(scope) else { return nil }
            return caller
        }

        /// Status, body and ETag of the answer; errors become the router's error bodies. A revoked
        /// access token is refused before any work, with the router's 401.
        func answer(_ accepted: Accepted, body: ByteBuffer?) async -> (status: HTTPResponse.Status, body: [UInt8], eTag: String?, caller: String?) {
            // As in the router: a token whose revocation cannot be checked is 503, a revoked one 401,
            // and neither request names a caller in its log line.
            do {
                guard try await self.authenticator.isStillValid(accepted.caller) else {
                    return (.unauthorized, JSONResponses.error(.unauthorized), nil, nil)
                }
            } catch {
                let apiError = ErrorAndLogMiddleware.apiError(for: error, logger: self.logger)
                return (apiError.status, JSONResponses.error(apiError), nil, nil)
            }
            let (status, answer, eTag) = await self.perform(accepted.work, body: body)
            return (status, answer, eTag, accepted.caller.name)
        }

        private func perform(_ work: Work, body: ByteBuffer?) async -> (status: HTTPResponse.Status, body: [UInt8], eTag: String?) {
            do {
                switch work {
                case .resolve(let token):
                    guard let session = try await self.routes.repository.resolve(token) else {
                        throw SessionAPIError.sessionNotFound
                    }
                    return (.ok, JSONResponses.session(session), "\"\(session.version)\"")
                case .create:
                    let json = try SessionRoutes.parseJSON(body ?? ByteBuffer())
                    return (.created, try await self.routes.create(json), nil)
                }
            } catch {
                let apiError = ErrorAndLogMiddleware.apiError(for: error, logger: self.logger)
                return (apiError.status, JSONResponses.error(apiError), nil)
            }
        }
    }

    enum Work {
        case resolve(SessionToken)
        case create(length: Int)
    }

    struct Accepted {
        let work: Work
        let route: String
        let method: String
        let caller: Caller
        let start: ContinuousClock.Instant

        init(work: Work, route: String, head: HTTPRequestHead, caller: Caller) {
            self.work = work
            self.route = route
            self.method = head.method.rawValue
            self.caller = caller
            self.start = .now
        }
    }

    private enum State {
        /// Between requests.
        case idle
        /// Passing the current request's parts on to the router.
        case forwarding
        /// Taken; collecting the body until the request's end.
        case accepted(Accepted, body: ByteBuffer?)
        /// Waiting for the answer.
        case working
    }

    private var state = State.idle
    private let service: Service
    private let executor: EventLoopTaskExecutor?
    private var date: (second: Int64, value: String) = (-1, "")

    init(service: Service, executor: EventLoopTaskExecutor?) {
        self.service = service
        self.executor = executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.state {
        case .idle:
            if case .head(let head) = self.unwrapInboundIn(data), let accepted = self.service.accept(head) {
                self.state = .accepted(accepted, body: nil)
            } else {
                self.state = .forwarding
                context.fireChannelRead(data)
            }
        case .forwarding:
            if case .end = self.unwrapInboundIn(data) { self.state = .idle }
            context.fireChannelRead(data)
        case .accepted(let accepted, var body):
            switch self.unwrapInboundIn(data) {
            case .head:
                assertionFailure("a request head inside a request")
                context.close(promise: nil)
            case .body(var part):
                // The decoder enforces Content-Length, which accept() bounded.
                if body == nil {
                    body = part
                } else {
                    body!.writeBuffer(&part)
                }
                self.state = .accepted(accepted, body: body)
            case .end:
                self.state = .working
                self.start(accepted, body: body, context: context)
            }
        case .working:
            // HTTPServerPipelineHandler holds the next request until this response has ended.
            assertionFailure("request part read while an answer is pending")
            context.close(promise: nil)
        }
    }

    private func start(_ accepted: Accepted, body: ByteBuffer?, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let service = self.service
        let eventLoop = context.eventLoop
        Task(executorPreference: self.executor) {
            let answer = await service.answer(accepted, body: body)
            if eventLoop.inEventLoop {
                bound.value.handler.respond(accepted, answer, context: bound.value.context)
            } else {
                eventLoop.execute { bound.value.handler.respond(accepted, answer, context: bound.value.context) }
            }
        }
    }

    private func respond(
        _ accepted: Accepted,
        _ answer: (status: HTTPResponse.Status, body: [UInt8], eTag: String?, caller: String?),
        context: ChannelHandlerContext
    ) {
        // The log line and the latency metric are the request's, whether or not its client is still
        // there to read the answer (a create whose client hung up still created a session).
        self.service.requestLog.record(
            method: accepted.method,
            route: accepted.route,
            status: answer.status.code,
            since: accepted.start,
            caller: answer.caller,
            newRequestID: true,
            logger: self.service.logger
        )
        guard case .working = self.state, context.channel.isActive else { return }
        self.state = .idle
        var headers = HTTPHeaders()
        if let eTag = answer.eTag { headers.add(name: "ETag", value: eTag) }
        if answer.status == .serviceUnavailable { headers.add(name: "Retry-After", value: SessionAPIError.retryAfterSeconds) }
        if answer.status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        headers.add(name: "Content-Type", value: JSONResponses.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Date", value: self.currentDate())
        let status = HTTPResponseStatus(statusCode: answer.status.code)
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        // ConnectionPolicyHandler closes the connection after this end when the request asked for that.
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The `Date` header, formatted once per second per connection.
    private func currentDate() -> String {
        let second = WallClock.milliseconds() / 1000
        if second != self.date.second { self.date = (second, Timestamp.httpDate(seconds: second)) }
        return self.date.value
    }
}
