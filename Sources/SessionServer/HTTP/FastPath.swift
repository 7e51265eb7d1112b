import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import SessionCore

/// Answers the requests that dominate sessiond's traffic without the router: `GET /v1/session`
/// (every microservice, on every one of its own requests), `POST /v1/sessions` (every sign-in), and
/// with access tokens on, `POST /v1/session/token` and `GET /v1/auth?audience=` (a gateway, on every
/// request it forwards).
///
/// It takes a request only when it can answer it exactly as the router would:
/// - `GET /v1/session`: no body, one `Authorization` naming a key with `sessions:read`, one
///   well-formed token (header or cookie);
/// - `POST /v1/sessions`: a `Content-Length` body within the limit, `Content-Type: application/json`,
///   one `Authorization` naming a key with `sessions:create`;
/// - `POST /v1/session/token`: likewise (4 KiB), `tokens:issue`, a well-formed session token;
/// - `GET /v1/auth?audience=<unreserved characters>`: no body, `tokens:issue`, a well-formed session token.
/// A caller may be a static key or a client-credentials token (the same ``CallerAuthenticator`` as
/// the router; a token's revocation is checked before any work).
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
        let tokens: TokenRoutes?
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
                guard length == 0, let caller = self.caller(authorization[0], .read), let token = self.sessionToken(headers) else { return nil }
                return Accepted(work: .resolve(token), route: "/v1/session", head: head, caller: caller)
            case (.POST, "/v1/session/token"):
                guard let tokens = self.tokens, tokens.tokens != nil, let length, length > 0, length <= TokenRoutes.maximumExchangeBody,
                    headers["content-type"].count == 1, SessionRoutes.isJSON(contentType: headers["content-type"][0]),
                    let caller = self.caller(authorization[0], .issueTokens), let token = self.sessionToken(headers)
                else { return nil }
                return Accepted(work: .exchange(token), route: "/v1/session/token", head: head, caller: caller)
            case (.GET, let uri) where uri.hasPrefix("/v1/auth?audience="):
                // Only the plain shape `?audience=<unreserved characters>`: anything that needs
                // decoding, or more parameters, is the router's.
                let audience = uri.utf8.dropFirst("/v1/auth?audience=".utf8.count)
                guard let tokens = self.tokens, tokens.tokens != nil, length == 0, !audience.isEmpty,
                    audience.allSatisfy(Self.isUnreserved),
                    let caller = self.caller(authorization[0], .issueTokens), let token = self.sessionToken(headers)
                else { return nil }
                return Accepted(work: .forwardAuth(audience: String(Substring(audience)), token: token), route: "/v1/auth", head: head, caller: caller)
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

        /// The well-formed session token of the request (header or cookie), read as the router reads it.
        private func sessionToken(_ headers: HTTPHeaders) -> SessionToken? {
            let tokenHeader = headers["x-session-token"]
            guard tokenHeader.count <= 1 else { return nil }
            return SessionRoutes.token(header: tokenHeader.first, cookieHeaders: headers["cookie"], cookieName: self.routes.configuration.cookie.name)
        }

        private static func isUnreserved(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                return true
            default:
                return false
            }
        }

        /// The caller, when it has `scope` (before a token's revocation check, which ``answer`` makes).
        private func caller(_ authorization: String, _ scope: Scope) -> Caller? {
            guard let caller = self.authenticator.presentedCaller(authorization: authorization), caller.scopes.contains(scope) else { return nil }
            return caller
        }

        /// Status, body and ETag of the answer; errors become the router's error bodies. A revoked
        /// access token is refused before any work, with the router's 401.
        func answer(_ accepted: Accepted, body: ByteBuffer?) async -> Answer {
            // As in the router: a token whose revocation cannot be checked is 503, a revoked one 401,
            // and neither request names a caller in its log line.
            do {
                guard try await self.authenticator.isStillValid(accepted.caller) else {
                    return Answer(error: .unauthorized, caller: nil)
                }
            } catch {
                return Answer(error: ErrorAndLogMiddleware.apiError(for: error, logger: self.logger), caller: nil)
            }
            do {
                return try await self.perform(accepted, body: body)
            } catch {
                return Answer(error: ErrorAndLogMiddleware.apiError(for: error, logger: self.logger), caller: accepted.caller.name)
            }
        }

        private func perform(_ accepted: Accepted, body: ByteBuffer?) async throws -> Answer {
            let caller = accepted.caller.name
            switch accepted.work {
            case .resolve(let token):
                guard let session = try await self.routes.repository.resolve(token) else {
                    throw SessionAPIError.sessionNotFound
                }
                return Answer(status: .ok, body: JSONResponses.session(session), eTag: "\"\(session.version)\"", caller: caller)
            case .create:
                let json = try SessionRoutes.parseJSON(body ?? ByteBuffer())
                return Answer(status: .created, body: try await self.routes.create(json), caller: caller)
            case .exchange(let token):
                let answer = try await self.tokens!.exchange(body: body ?? ByteBuffer(), token: token, caller: caller)
                return Answer(status: .ok, body: answer, caller: caller)
            case .forwardAuth(let audience, let token):
                let authorization = try await self.tokens!.forwardAuth(audience: audience, token: token, caller: caller)
                // As the router answers it: an empty body, no Content-Type.
                return Answer(status: .ok, body: [], authorization: authorization, contentType: nil, caller: caller)
            }
        }
    }

    /// What the fast path sends back: the router's status, body and headers for the same request.
    struct Answer {
        var status: HTTPResponse.Status
        var body: [UInt8]
        var eTag: String? = nil
        /// Forward-auth's `Authorization: Bearer <jwt>`.
        var authorization: String? = nil
        var contentType: String? = JSONResponses.contentType
        /// The caller the log line names (nil when authentication failed).
        var caller: String?

        init(
            status: HTTPResponse.Status, body: [UInt8], eTag: String? = nil, authorization: String? = nil,
            contentType: String? = JSONResponses.contentType, caller: String?
        ) {
            self.status = status
            self.body = body
            self.eTag = eTag
            self.authorization = authorization
            self.contentType = contentType
            self.caller = caller
        }

        init(error: SessionAPIError, caller: String?) {
            self.init(status: error.status, body: JSONResponses.error(error), caller: caller)
        }
    }

    enum Work {
        case resolve(SessionToken)
        case create(length: Int)
        case exchange(SessionToken)
        case forwardAuth(audience: String, token: SessionToken)
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
        _ answer: Answer,
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
        if let authorization = answer.authorization { headers.add(name: "Authorization", value: authorization) }
        if answer.status == .serviceUnavailable { headers.add(name: "Retry-After", value: SessionAPIError.retryAfterSeconds) }
        if answer.status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        if let contentType = answer.contentType { headers.add(name: "Content-Type", value: contentType) }
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
