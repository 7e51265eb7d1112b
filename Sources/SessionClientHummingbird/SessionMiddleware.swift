import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SessionClient

/// A request context that can carry the resolved session.
public protocol SessionRequestContextProtocol: RequestContext {
    /// The session of the request's cookie, set by ``SessionMiddleware`` (nil: none).
    var session: Session? { get set }
}

/// A ready context type for apps that need nothing else.
public struct BasicSessionRequestContext: SessionRequestContextProtocol {
    public var coreContext: CoreRequestContextStorage
    public var session: Session?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.session = nil
    }
}

/// Resolves the session cookie once per request and puts the session into the context.
///
/// No cookie, or a cookie sessiond does not know: `context.session` is nil and the request goes on
/// (routes decide with ``RequireSessionMiddleware``). sessiond unreachable: 503 JSON — the middleware
/// fails closed, it never lets a request through as "anonymous" because it could not check.
public struct SessionMiddleware<Context: SessionRequestContextProtocol>: RouterMiddleware {
    private let client: SessionClient

    /// A middleware resolving through `client`.
    public init(client: SessionClient) {
        self.client = client
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let cookies = request.headers[values: .cookie].joined(separator: "; ")
        if !cookies.isEmpty {
            do {
                context.session = try await self.client.resolve(cookieHeader: cookies)
            } catch let error as SessionClientError {
                context.logger.warning("session check failed", metadata: ["sessiond.error": "\(error.code.rawValue)"])
                return SessionErrorResponse.make(.serviceUnavailable, code: "session_unavailable", message: "cannot check the session right now")
            }
        }
        return try await next(request, context)
    }
}

/// Answers 401 JSON unless ``SessionMiddleware`` found a session. Put it on the routes that need one.
public struct RequireSessionMiddleware<Context: SessionRequestContextProtocol>: RouterMiddleware {
    /// The middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.session != nil else {
            return SessionErrorResponse.make(.unauthorized, code: "not_signed_in", message: "sign in first")
        }
        return try await next(request, context)
    }
}

enum SessionErrorResponse {
    static func make(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
