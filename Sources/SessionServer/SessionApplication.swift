import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RedisWire
import ServiceLifecycle
import SessionCore

/// Builds the sessiond HTTP application around a repository.
public enum SessionApplication {
    /// The router with every route and middleware, for tests (`app.test(.router)`) and the server.
    public static func makeRouter(
        configuration: SessionServiceConfiguration,
        repository: any SessionRepository,
        apiKeys: APIKeys,
        prometheus: PrometheusCollectorRegistry?,
        redis: RedisClient? = nil,
        signingKeys: SigningKeyring? = nil,
        oauthState: (any OAuthStateStore)? = nil,
        clock: @escaping @Sendable () -> Int64 = { WallClock.milliseconds() }
    ) -> Router<SessionRequestContext> {
        let tokens = signingKeys.map { TokenService(keyring: $0, settings: configuration.tokens, clock: clock) }
        let state = oauthState ?? InMemoryOAuthStateStore(clock: clock)
        let routes = SessionRoutes(repository: repository, configuration: configuration, metrics: SessionMetrics())
        let authenticator = CallerAuthenticator(apiKeys: apiKeys, tokens: tokens, oauthState: state)
        return self.makeRouter(
            routes: routes,
            tokenRoutes: TokenRoutes(routes: routes, tokens: tokens, authenticator: authenticator),
            authenticator: authenticator,
            requestLog: RequestLog(),
            prometheus: prometheus,
            redis: redis
        )
    }

    /// The router over `routes`, logging through `requestLog` (both shared with the fast path).
    static func makeRouter(
        routes: SessionRoutes,
        tokenRoutes: TokenRoutes,
        authenticator: CallerAuthenticator,
        requestLog: RequestLog,
        prometheus: PrometheusCollectorRegistry?,
        redis: RedisClient?
    ) -> Router<SessionRequestContext> {
        let repository = routes.repository
        let router = Router(context: SessionRequestContext.self)
        let routeTable = RouteTable()
        router.add(middleware: ErrorAndLogMiddleware(routeTable: routeTable, requestLog: requestLog, authenticator: authenticator))
        let poolInUse = Gauge(label: "redis_pool_connections_open")
        let poolSize = Gauge(label: "redis_pool_connections_configured")

        router.get("healthz") { _, _ in
            JSONResponses.response(.ok, Array(#"{"status":"ok"}"#.utf8))
        }
        router.get("readyz") { _, context in
            do {
                try await repository.ping()
                return JSONResponses.response(.ok, Array(#"{"status":"ready"}"#.utf8))
            } catch {
                context.logger.warning("not ready: session store unavailable")
                throw SessionAPIError.storeUnavailable
            }
        }
        router.get("metrics") { _, _ in
            if let redis {
                let statistics = redis.poolStatistics
                poolInUse.record(statistics.connected)
                poolSize.record(statistics.total)
            }
            var buffer = [UInt8]()
            prometheus?.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        router.get("openapi.json") { _, _ in
            JSONResponses.response(.ok, Array(OpenAPIDocument.json.utf8))
        }
        tokenRoutes.register(root: router)
        let v1 = router.group("v1").add(middleware: APIKeyMiddleware())
        routes.register(on: v1)
        tokenRoutes.register(v1: v1)
        routeTable.load(from: router)
        return router
    }

    /// The runnable application: HTTP server with connection limits, plus `services` (e.g. the Redis client)
    /// shut down gracefully with it on SIGTERM/SIGINT.
    public static func makeApplication(
        configuration: SessionServiceConfiguration,
        repository: any SessionRepository,
        apiKeys: APIKeys,
        prometheus: PrometheusCollectorRegistry?,
        redis: RedisClient?,
        signingKeys: SigningKeyring? = nil,
        oauthState: (any OAuthStateStore)? = nil,
        logger: Logger,
        accessLog: AccessLog? = nil,
        services extraServices: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        // One set of handlers, one request log: the router and the fast path share them.
        let routes = SessionRoutes(repository: repository, configuration: configuration, metrics: SessionMetrics())
        let requestLog = RequestLog(accessLog: accessLog)
        let tokens = signingKeys.map { TokenService(keyring: $0, settings: configuration.tokens) }
        // One authenticator for the router and the fast path: static keys and access tokens alike.
        let authenticator = CallerAuthenticator(apiKeys: apiKeys, tokens: tokens, oauthState: oauthState ?? InMemoryOAuthStateStore())
        // One set of token routes too: the fast path answers exchanges and forward-auth with them.
        let tokenRoutes = TokenRoutes(routes: routes, tokens: tokens, authenticator: authenticator)
        let router = self.makeRouter(
            routes: routes,
            tokenRoutes: tokenRoutes,
            authenticator: authenticator,
            requestLog: requestLog,
            prometheus: prometheus,
            redis: redis
        )
        let fastPath = FastPath.Service(
            routes: routes, tokens: tokenRoutes, authenticator: authenticator, requestLog: requestLog, logger: logger
        )
        var services: [any Service] = []
        if let redis { services.append(redis) }
        services.append(contentsOf: extraServices)
        return Application(
            router: router,
            server: .sessionHTTP1(
                requestReadTimeout: .seconds(Int64(configuration.limits.requestReadTimeout)),
                idleTimeout: .seconds(Int64(configuration.limits.idleConnectionTimeout)),
                fastPath: configuration.fastPath ? fastPath : nil,
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton
            ),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
