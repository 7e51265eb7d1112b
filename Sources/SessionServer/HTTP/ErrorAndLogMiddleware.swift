import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import SessionCore

/// Outermost middleware: turns every error into the JSON error body, adds `Cache-Control: no-store`,
/// logs one line per request (method, route template, status, latency; never tokens or data) and
/// records per-route metrics.
struct ErrorAndLogMiddleware: RouterMiddleware {
    typealias Context = SessionRequestContext
    /// Known routes, for 405 versus 404.
    let routeTable: RouteTable
    /// The per-request log line and latency metric.
    let requestLog: RequestLog
    /// Callers of `/v1` and `/oauth2` are authenticated here (a static key or a client-credentials
    /// access token, by the authenticator the fast path shares), so that the log line names the
    /// caller whatever the outcome (``APIKeyMiddleware`` refuses those without one).
    let authenticator: CallerAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        let path = request.uri.path
        let isOAuth = path.hasPrefix("/oauth2/")
        var response: Response
        do {
            if path.hasPrefix("/v1/") || isOAuth, let authorization = request.headers[.authorization] {
                // Throws (503) when a token's revocation cannot be checked.
                context.caller = try await self.authenticator.authenticate(authorization: authorization)
            }
            response = try await next(request, context)
        } catch {
            var apiError = Self.apiError(for: error, logger: context.logger)
            var headers: HTTPFields = [:]
            if apiError.status == .unauthorized { headers[.wwwAuthenticate] = isOAuth ? #"Basic realm="sessiond""# : "Bearer" }
            if apiError.status == .serviceUnavailable { headers[.retryAfter] = SessionAPIError.retryAfterSeconds }
            if let seconds = apiError.retryAfter { headers[.retryAfter] = String(seconds) }
            if apiError == .notFound, let allowed = self.routeTable.allowedMethods(path: request.uri.path) {
                // The path exists, the method does not.
                apiError = .methodNotAllowed
                headers[.allow] = allowed
            }
            response = JSONResponses.response(apiError.status, isOAuth ? JSONResponses.oauthError(apiError) : JSONResponses.error(apiError), headers: headers)
        }
        // Everything but the public key set (which says how long to cache it) is never to be stored.
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        self.requestLog.record(
            method: request.method.rawValue,
            route: context.endpointPath ?? "unmatched",
            status: response.status.code,
            since: start,
            caller: context.caller?.name ?? context.reportedCaller.value,
            logger: context.logger
        )
        return response
    }

    /// Maps anything thrown below to the API's error vocabulary. Unknown errors become 500 without details.
    static func apiError(for error: any Error, logger: Logger) -> SessionAPIError {
        switch error {
        case let error as SessionAPIError:
            return error
        case let error as SessionStoreError:
            if error == .versionMismatch { return .versionMismatch }
            if error == .conflict { return .conflict }
            logger.warning("session store unavailable", metadata: ["store.error": "\(error.reason)"])
            return .storeUnavailable
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound
            case .methodNotAllowed: return .methodNotAllowed
            case .contentTooLarge: return .payloadTooLarge("the request body is too large")
            case .unsupportedMediaType: return .unsupportedMediaType
            case .unauthorized: return .unauthorized
            default:
                if error.status.code >= 400 && error.status.code < 500 { return .invalidRequest("the request is malformed") }
                return .internalError
            }
        default:
            logger.error("unhandled error", metadata: ["error.type": "\(type(of: error))"])
            return .internalError
        }
    }
}

/// Refuses `/v1` callers without a valid `Authorization: Bearer <key or token>` (authenticated once, by
/// ``ErrorAndLogMiddleware``).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = SessionRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.caller != nil else { throw SessionAPIError.unauthorized }
        return try await next(request, context)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

/// The paths sessiond serves and their methods, to tell 405 from 404. Filled from the router's own
/// route list once every route is registered, so it cannot drift from the routes.
final class RouteTable: Sendable {
    private let routes = NIOLockedValueBox<[(segments: [Substring], methods: String)]>([])

    /// Records `router`'s routes (call after the last route is added).
    func load(from router: Router<SessionRequestContext>) {
        var methods: [String: [String]] = [:]
        for route in router.routes { methods[route.path.description, default: []].append(route.method.rawValue) }
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        let table = methods.map { path, verbs in
            (
                segments: path.split(separator: "/").map { $0.hasPrefix("{") ? "*" : $0 },
                methods: verbs.sorted { (order.firstIndex(of: $0) ?? order.count) < (order.firstIndex(of: $1) ?? order.count) }
                    .joined(separator: ", ")
            )
        }
        self.routes.withLockedValue { $0 = table }
    }

    /// The `Allow` value for `path`, or nil when no route has that shape.
    func allowedMethods(path: String) -> String? {
        let segments = path.split(separator: "/")
        return self.routes.withLockedValue { routes in
            routes.first { route in
                route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0 == "*" || $0 == $1 }
            }?.methods
        }
    }
}
