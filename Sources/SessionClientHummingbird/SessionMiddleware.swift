import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SessionClient
import SessionTokens

/// A request context that can carry the resolved session.
public protocol SessionRequestContextProtocol: RequestContext {
    /// The session of the request's cookie, set by ``SessionMiddleware`` (nil: none).
    var session: Session? { get set }
}

/// A request context that can carry either a resolved session or a verified access token.
public protocol AccessTokenRequestContextProtocol: SessionRequestContextProtocol {
    /// The verified `Authorization: Bearer` access token, set by ``SessionOrTokenMiddleware`` (nil: none).
    var accessToken: VerifiedAccessToken? { get set }
}

/// How a request proved who it is.
public enum RequestCredential: Sendable, Hashable {
    /// The session cookie, resolved by sessiond.
    case sessionCookie
    /// An access token, verified locally (or by introspection).
    case accessToken
}

extension AccessTokenRequestContextProtocol {
    /// Which credential the request carried (nil: neither, or neither was valid).
    public var credential: RequestCredential? {
        if self.accessToken != nil { return .accessToken }
        return self.session != nil ? .sessionCookie : nil
    }

    /// The user: the token's `sub`, else the session's user id.
    public var userID: String? { self.accessToken?.subject ?? self.session?.userID }
}

/// A ready context type for apps that need nothing else.
public struct BasicSessionRequestContext: AccessTokenRequestContextProtocol {
    public var coreContext: CoreRequestContextStorage
    public var session: Session?
    public var accessToken: VerifiedAccessToken?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.session = nil
        self.accessToken = nil
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

/// Accepts either credential: a request with `Authorization: Bearer <jwt>` is verified locally by
/// `verifier` (no call to sessiond unless the verifier introspects); any other request has its
/// session cookie resolved as ``SessionMiddleware`` does (when `client` is given).
///
/// An invalid Bearer token is 401 at once and never falls back to the cookie: a request that
/// presents a credential is judged by it. A verifier that cannot check (no key set yet) is 503.
public struct SessionOrTokenMiddleware<Context: AccessTokenRequestContextProtocol>: RouterMiddleware {
    private let client: SessionClient?
    private let verifier: TokenVerifier

    /// A middleware verifying Bearer tokens with `verifier` and resolving cookies through `client`.
    public init(verifier: TokenVerifier, client: SessionClient?) {
        self.verifier = verifier
        self.client = client
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                return SessionErrorResponse.make(.unauthorized, code: "invalid_token", message: "expected a Bearer access token")
            }
            do {
                guard let token = try await self.verifier.verify(String(parts[1].drop { $0 == " " })) else {
                    return SessionErrorResponse.make(.unauthorized, code: "invalid_token", message: "the access token is not valid")
                }
                context.accessToken = token
            } catch {
                context.logger.warning("access token check failed", metadata: ["error": "\(error)"])
                return SessionErrorResponse.make(.serviceUnavailable, code: "session_unavailable", message: "cannot check the access token right now")
            }
            return try await next(request, context)
        }
        if let client {
            return try await SessionMiddleware<Context>(client: client).handle(request, context: context, next: next)
        }
        return try await next(request, context)
    }
}

/// Answers 401 JSON unless ``SessionMiddleware`` found a session (or ``SessionOrTokenMiddleware``
/// a valid access token). Put it on the routes that need one.
public struct RequireSessionMiddleware<Context: SessionRequestContextProtocol>: RouterMiddleware {
    /// The middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.session != nil || (context as? any AccessTokenRequestContextProtocol)?.accessToken != nil else {
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
            headers: status == .unauthorized
                ? [.contentType: "application/json", .cacheControl: "no-store", .wwwAuthenticate: "Bearer"]
                : [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
