import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import RedisWire
import SessionCore
import ServiceLifecycle
import SessionServer

/// `sessiond`: the session store service. Every option also reads an environment variable.
@main
struct SessionDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessiond",
        abstract: "Distributed session store over Redis.",
        discussion: "Every option falls back to the environment variable named in its help, then to its default."
    )

    @Option(help: "host:port to listen on [SESSIOND_LISTEN] (default 127.0.0.1:8080)") var listen: String?
    @Option(help: "redis (default) or memory [SESSIOND_STORE]") var store: String?
    @Option(help: "redis://, rediss://, redis+sentinel://…/<master>, redis+cluster:// URL [SESSIOND_REDIS_URL] (default redis://127.0.0.1:6379)") var redisURL: String?
    @Option(help: "file holding the Redis password, instead of the URL [SESSIOND_REDIS_PASSWORD_FILE]") var redisPasswordFile: String?
    @Option(help: "API keys file: NAME SCOPES SECRET per line; SIGHUP reloads it [SESSIOND_API_KEYS_FILE]") var apiKeysFile: String?
    @Option(help: "trace, debug, info, notice, warning, error, critical [SESSIOND_LOG_LEVEL] (default info)") var logLevel: String?
    @Option(help: "Redis key prefix [SESSIOND_KEY_PREFIX] (default sessiond:)") var keyPrefix: String?
    @Option(help: "default idle timeout, seconds [SESSIOND_IDLE_TIMEOUT] (default 1800)") var idleTimeout: Int?
    @Option(help: "default absolute timeout, seconds [SESSIOND_ABSOLUTE_TIMEOUT] (default 86400)") var absoluteTimeout: Int?
    @Option(help: "largest idle timeout a create may ask for [SESSIOND_MAX_IDLE_TIMEOUT] (default 86400)") var maxIdleTimeout: Int?
    @Option(help: "largest absolute timeout a create may ask for [SESSIOND_MAX_ABSOLUTE_TIMEOUT] (default 2592000)") var maxAbsoluteTimeout: Int?
    @Option(help: "slide the idle deadline at most every N seconds [SESSIOND_TOUCH_INTERVAL] (default 60)") var touchInterval: Int?
    @Option(help: "sessions per user before the oldest is evicted [SESSIOND_MAX_SESSIONS_PER_USER] (default 100)") var maxSessionsPerUser: Int?
    @Option(help: "largest request body, bytes [SESSIOND_MAX_BODY_BYTES] (default 65536)") var maxBodyBytes: Int?
    @Option(help: "largest data object, bytes [SESSIOND_MAX_DATA_BYTES] (default 16384)") var maxDataBytes: Int?
    @Option(help: "Redis command timeout, ms [SESSIOND_REDIS_TIMEOUT_MS] (default 250)") var redisTimeoutMs: Int?
    @Option(help: "Redis connect timeout, ms [SESSIOND_REDIS_CONNECT_TIMEOUT_MS] (default 500)") var redisConnectTimeoutMs: Int?
    @Option(help: "pipelined Redis connections, 0 = one per event loop [SESSIOND_REDIS_POOL_SIZE] (default 0)") var redisPoolSize: Int?
    @Option(help: "ms a command may wait out a Redis failover before 503 [SESSIOND_REDIS_FAILOVER_BUDGET] (default 5000)") var redisFailoverBudget: Int?
    @Option(help: "replicas a logout waits for: auto (1 if the primary has any) or 0-16 [SESSIOND_REVOCATION_REPLICAS] (default auto)") var revocationReplicas: String?
    @Option(help: "ms a logout waits for its replicas [SESSIOND_REVOCATION_TIMEOUT] (default 100)") var revocationTimeout: Int?
    @Option(help: "strict (503 when replicas did not acknowledge) or best-effort [SESSIOND_REVOCATION_POLICY] (default best-effort)") var revocationPolicy: String?
    @Option(help: "seconds for a request to arrive in full [SESSIOND_REQUEST_READ_TIMEOUT] (default 10)") var requestReadTimeout: Int?
    @Option(help: "seconds before an idle keep-alive connection closes [SESSIOND_IDLE_CONNECTION_TIMEOUT] (default 60)") var idleConnectionTimeout: Int?
    @Option(help: "NIO event-loop threads [SESSIOND_EVENT_LOOPS] (default: one per core)") var eventLoops: Int?
    @Option(help: "session cookie name [SESSIOND_COOKIE_NAME] (default __Host-sid)") var cookieName: String?
    @Option(help: "Strict, Lax or None [SESSIOND_COOKIE_SAMESITE] (default Lax)") var cookieSameSite: String?
    @Option(help: "true: Max-Age = absolute timeout [SESSIOND_COOKIE_PERSISTENT] (default false)") var cookiePersistent: Bool?
    @Option(help: "false: resolve and create through the router instead of the fast path [SESSIOND_FAST_PATH] (default true)") var fastPath: Bool?
    @Option(help: "cookie Domain for SSO across subdomains [SESSIOND_COOKIE_DOMAIN] (default none)") var cookieDomain: String?
    @Option(help: "signing keys file: KID ALG SIGN_FROM SIGN_UNTIL PEM_FILE per line; turns the token routes on; SIGHUP reloads it [SESSIOND_SIGNING_KEYS_FILE]") var signingKeysFile: String?
    @Option(help: "iss of access tokens, e.g. https://sessiond.internal [SESSIOND_TOKEN_ISSUER] (required with a signing keys file)") var tokenIssuer: String?
    @Option(help: "comma-separated audiences tokens may be issued for [SESSIOND_TOKEN_AUDIENCES]") var tokenAudiences: String?
    @Option(help: "access token lifetime when an exchange names none, seconds [SESSIOND_TOKEN_TTL] (default 60)") var tokenTtl: Int?
    @Option(help: "longest access token lifetime, seconds [SESSIOND_TOKEN_MAX_TTL] (default 300)") var tokenMaxTtl: Int?
    @Option(help: "comma-separated top-level data members copied into tokens [SESSIOND_TOKEN_CLAIMS] (default none)") var tokenClaims: String?
    @Option(help: "how long verifiers may cache the JWKS, seconds [SESSIOND_JWKS_MAX_AGE] (default 300)") var jwksMaxAge: Int?
    @Option(help: "lifetime of client-credentials access tokens, seconds [SESSIOND_CLIENT_TOKEN_TTL] (default 600)") var clientTokenTtl: Int?
    @Option(help: "comma-separated proxy addresses or CIDR networks whose X-Forwarded-For names the client of the token endpoint's per-address limit [SESSIOND_TRUSTED_PROXIES] (default none)") var trustedProxies: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func value(_ flag: String?, _ name: String) -> String? { flag ?? environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ flag: Int?, _ name: String) throws -> Int? {
            if let flag { return flag }
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let parsed = Int(text) else { throw ConfigurationFailure("\(name) must be a whole number") }
            return parsed
        }

        let level: Logger.Level
        let levelText = value(self.logLevel, "SESSIOND_LOG_LEVEL") ?? "info"
        guard let parsedLevel = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationFailure("log level must be one of trace, debug, info, notice, warning, error, critical")
        }
        level = parsedLevel
        let logWriter = BatchedLogWriter()
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, writer: logWriter) }
        defer { logWriter.flush() }
        var logger = Logger(label: "sessiond")
        logger.logLevel = level

        var configuration = SessionServiceConfiguration()
        do {
            if let listen = value(self.listen, "SESSIOND_LISTEN") {
                guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                    throw ConfigurationFailure("listen address must be host:port")
                }
                configuration.host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                configuration.port = port
            }
            if let store = value(self.store, "SESSIOND_STORE") {
                guard let parsed = SessionServiceConfiguration.Store(rawValue: store) else {
                    throw ConfigurationFailure("store must be redis or memory")
                }
                configuration.store = parsed
            }
            if let url = value(self.redisURL, "SESSIOND_REDIS_URL") { configuration.redisURL = url }
            configuration.apiKeysFile = value(self.apiKeysFile, "SESSIOND_API_KEYS_FILE")
            if let prefix = value(self.keyPrefix, "SESSIOND_KEY_PREFIX") { configuration.keyPrefix = prefix }
            if let v = try number(self.idleTimeout, "SESSIOND_IDLE_TIMEOUT") { configuration.lifetimes.defaultIdle = v }
            if let v = try number(self.absoluteTimeout, "SESSIOND_ABSOLUTE_TIMEOUT") { configuration.lifetimes.defaultAbsolute = v }
            if let v = try number(self.maxIdleTimeout, "SESSIOND_MAX_IDLE_TIMEOUT") { configuration.lifetimes.maximumIdle = v }
            if let v = try number(self.maxAbsoluteTimeout, "SESSIOND_MAX_ABSOLUTE_TIMEOUT") { configuration.lifetimes.maximumAbsolute = v }
            if let v = try number(self.touchInterval, "SESSIOND_TOUCH_INTERVAL") { configuration.lifetimes.touchInterval = v }
            if let v = try number(self.maxSessionsPerUser, "SESSIOND_MAX_SESSIONS_PER_USER") { configuration.limits.maximumSessionsPerUser = v }
            if let v = try number(self.maxBodyBytes, "SESSIOND_MAX_BODY_BYTES") { configuration.limits.maximumBodyBytes = v }
            if let v = try number(self.maxDataBytes, "SESSIOND_MAX_DATA_BYTES") { configuration.limits.maximumDataBytes = v }
            if let v = try number(self.redisTimeoutMs, "SESSIOND_REDIS_TIMEOUT_MS") { configuration.redisCommandTimeoutMilliseconds = v }
            if let v = try number(self.redisConnectTimeoutMs, "SESSIOND_REDIS_CONNECT_TIMEOUT_MS") { configuration.redisConnectTimeoutMilliseconds = v }
            if let v = try number(self.redisPoolSize, "SESSIOND_REDIS_POOL_SIZE") { configuration.redisPoolSize = v }
            if let v = try number(self.redisFailoverBudget, "SESSIOND_REDIS_FAILOVER_BUDGET") { configuration.redisFailoverBudgetMilliseconds = v }
            if let text = value(self.revocationReplicas, "SESSIOND_REVOCATION_REPLICAS"), text != "auto" {
                guard let replicas = Int(text) else { throw ConfigurationFailure("revocation replicas must be auto or a number") }
                configuration.revocation.replicas = replicas
            }
            if let v = try number(self.revocationTimeout, "SESSIOND_REVOCATION_TIMEOUT") { configuration.revocation.timeout = Int64(v) }
            if let text = value(self.revocationPolicy, "SESSIOND_REVOCATION_POLICY") {
                guard let mode = RevocationPolicy.Mode(rawValue: text) else { throw ConfigurationFailure("revocation policy must be strict or best-effort") }
                configuration.revocation.mode = mode
            }
            if let v = try number(self.requestReadTimeout, "SESSIOND_REQUEST_READ_TIMEOUT") { configuration.limits.requestReadTimeout = v }
            if let v = try number(self.idleConnectionTimeout, "SESSIOND_IDLE_CONNECTION_TIMEOUT") { configuration.limits.idleConnectionTimeout = v }
            if let name = value(self.cookieName, "SESSIOND_COOKIE_NAME") { configuration.cookie.name = name }
            if let sameSite = value(self.cookieSameSite, "SESSIOND_COOKIE_SAMESITE") {
                guard let parsed = SessionServiceConfiguration.Cookie.SameSite.allCases.first(where: { $0.rawValue.lowercased() == sameSite.lowercased() }) else {
                    throw ConfigurationFailure("cookie SameSite must be Strict, Lax or None")
                }
                configuration.cookie.sameSite = parsed
            }
            if let persistent = self.cookiePersistent {
                configuration.cookie.isPersistent = persistent
            } else if let text = environment["SESSIOND_COOKIE_PERSISTENT"], !text.isEmpty {
                guard let parsed = Bool(text.lowercased()) else { throw ConfigurationFailure("SESSIOND_COOKIE_PERSISTENT must be true or false") }
                configuration.cookie.isPersistent = parsed
            }
            configuration.cookie.domain = value(self.cookieDomain, "SESSIOND_COOKIE_DOMAIN")
            if let fastPath = self.fastPath {
                configuration.fastPath = fastPath
            } else if let text = environment["SESSIOND_FAST_PATH"], !text.isEmpty {
                guard let parsed = Bool(text.lowercased()) else { throw ConfigurationFailure("SESSIOND_FAST_PATH must be true or false") }
                configuration.fastPath = parsed
            }
            func list(_ text: String?) -> [String] {
                (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            configuration.tokens.signingKeysFile = value(self.signingKeysFile, "SESSIOND_SIGNING_KEYS_FILE")
            configuration.tokens.issuer = value(self.tokenIssuer, "SESSIOND_TOKEN_ISSUER")
            configuration.tokens.audiences = list(value(self.tokenAudiences, "SESSIOND_TOKEN_AUDIENCES"))
            configuration.tokens.claims = list(value(self.tokenClaims, "SESSIOND_TOKEN_CLAIMS"))
            if let v = try number(self.tokenTtl, "SESSIOND_TOKEN_TTL") { configuration.tokens.defaultTTL = v }
            if let v = try number(self.tokenMaxTtl, "SESSIOND_TOKEN_MAX_TTL") { configuration.tokens.maximumTTL = v }
            if let v = try number(self.jwksMaxAge, "SESSIOND_JWKS_MAX_AGE") { configuration.tokens.jwksMaxAge = v }
            if let v = try number(self.clientTokenTtl, "SESSIOND_CLIENT_TOKEN_TTL") { configuration.tokens.clientTokenTTL = v }
            for entry in list(value(self.trustedProxies, "SESSIOND_TRUSTED_PROXIES")) {
                guard let network = IPNetwork(entry) else {
                    throw ConfigurationFailure("trusted proxy '\(entry)' is not an IP address or CIDR network (e.g. 10.0.0.0/8, fd00::/8)")
                }
                configuration.clientAddresses.trustedProxies.append(network)
            }
            try configuration.validate()
        } catch let failure as ConfigurationFailure {
            throw failure
        } catch {
            throw ConfigurationFailure("\(error)")
        }

        guard let keysPath = configuration.apiKeysFile else {
            throw ConfigurationFailure("no API keys: pass --api-keys-file or set SESSIOND_API_KEYS_FILE")
        }
        let apiKeys: APIKeys
        do {
            apiKeys = try APIKeys.load(path: keysPath)
        } catch {
            throw ConfigurationFailure(error.reason)
        }
        if let warning = APIKeys.permissionWarning(path: keysPath) { logger.warning("\(warning)") }
        var signingKeys: SigningKeyring? = nil
        var reloaders: [any Service] = [APIKeyReloader(keys: apiKeys, path: keysPath, logger: logger)]
        if let path = configuration.tokens.signingKeysFile {
            do {
                signingKeys = SigningKeyring(try SigningKeyring.load(path: path))
            } catch {
                throw ConfigurationFailure(error.reason)
            }
            reloaders.append(SigningKeyReloader(keyring: signingKeys!, path: path, jwksMaxAge: configuration.tokens.jwksMaxAge, logger: logger))
        }

        if let loops = try number(self.eventLoops, "SESSIOND_EVENT_LOOPS") {
            guard (1...256).contains(loops) else { throw ConfigurationFailure("event loops must be 1–256") }
            NIOSingletons.groupLoopCountSuggestion = loops
        }

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var policy = StorePolicy(
            touchInterval: Int64(configuration.lifetimes.touchInterval) * 1000,
            maximumSessionsPerUser: configuration.limits.maximumSessionsPerUser
        )
        policy.revocation = configuration.revocation
        let repository: any SessionRepository
        // Brute-force counters and revoked client tokens, shared by every replica through the store.
        let oauthState: any OAuthStateStore
        var redis: RedisClient? = nil
        switch configuration.store {
        case .memory:
            logger.warning("store=memory: sessions live in this process only and are lost on restart; not for production or more than one replica")
            repository = InMemorySessionRepository(policy: policy)
            oauthState = InMemoryOAuthStateStore()
        case .redis:
            var redisConfiguration: RedisConfiguration
            do {
                redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
            } catch {
                throw ConfigurationFailure("invalid Redis URL: \(error.reason)")
            }
            if let path = value(self.redisPasswordFile, "SESSIOND_REDIS_PASSWORD_FILE") {
                guard (redisConfiguration.password ?? "").isEmpty else {
                    throw ConfigurationFailure("the Redis password is in the URL and in --redis-password-file; give it once")
                }
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ConfigurationFailure("cannot read the Redis password file \(path)")
                }
                // One line; the newline an editor or `echo` adds is not part of the password.
                var password = Substring(text)
                while password.last == "\n" || password.last == "\r" { password = password.dropLast() }
                guard !password.isEmpty, !password.contains("\n") else {
                    throw ConfigurationFailure("the Redis password file \(path) must hold the password on one line")
                }
                redisConfiguration.password = String(password)
            }
            // 0: one connection per event loop, so each request's Redis round trip stays on its thread.
            redisConfiguration.poolSize =
                configuration.redisPoolSize == 0
                ? Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).count : configuration.redisPoolSize
            redisConfiguration.clientName = "sessiond"
            redisConfiguration.minimumServerVersion = RedisSessionRepository.minimumServerVersion
            redisConfiguration.failoverBudget = .milliseconds(Int64(configuration.redisFailoverBudgetMilliseconds))
            redisConfiguration.timeouts = .init(
                connect: .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds)),
                command: .milliseconds(Int64(configuration.redisCommandTimeoutMilliseconds))
            )
            let client = RedisClient(configuration: redisConfiguration, logger: logger)
            let redisRepository = RedisSessionRepository(
                redis: client,
                layout: KeyLayout(prefix: configuration.keyPrefix),
                policy: policy,
                logger: logger
            )
            do {
                try await redisRepository.loadScripts()
            } catch {
                logger.warning("Redis is not reachable yet; /readyz reports 503 until it is", metadata: ["redis.error": "\(error)"])
            }
            repository = redisRepository
            let store = RedisOAuthStateStore(redis: client, prefix: configuration.keyPrefix, logger: logger)
            oauthState = store
            // Revoked client tokens answered from memory, kept current over pub/sub (docs/oauth.md).
            if signingKeys != nil { reloaders.append(RevocationCacheService(store: store)) }
            redis = client
        }

        let app = SessionApplication.makeApplication(
            configuration: configuration,
            repository: repository,
            apiKeys: apiKeys,
            prometheus: registry,
            redis: redis,
            signingKeys: signingKeys,
            oauthState: oauthState,
            logger: logger,
            accessLog: AccessLog(writer: logWriter, label: logger.label),
            services: reloaders
        )
        try await app.runService()
    }
}

/// A configuration problem: printed as one line, exit code 64.
struct ConfigurationFailure: Error, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { "sessiond: invalid configuration: \(self.reason)" }
}
