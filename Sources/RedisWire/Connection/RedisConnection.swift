import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One pipelined connection to Redis. Many commands may be in flight at once; replies come back in order.
public final class RedisConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<RedisChannelHandler>
    /// The event loop this connection lives on.
    public var eventLoop: any EventLoop { self.channel.eventLoop }

    private init(channel: any Channel, handler: NIOLoopBound<RedisChannelHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Completes when the connection has closed.
    var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    /// Whether the socket is still open.
    public var isActive: Bool { self.channel.isActive }

    /// Opens a connection, then runs the handshake (`AUTH`, `SELECT`, `CLIENT SETNAME`) pipelined.
    ///
    /// - Parameter onPush: receives pub/sub messages; set it only for a subscriber connection.
    public static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        logger: Logger,
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws -> RedisConnection {
        let sslContext: NIOSSLContext?
        if let tls = configuration.tls {
            do {
                sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw RedisClientError(.invalidConfiguration, "TLS configuration rejected: \(error)")
            }
        } else {
            sslContext = nil
        }
        let host = configuration.host
        let maximumReplyBytes = configuration.maximumReplyBytes
        let deadAfter = configuration.deadConnectionTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.timeouts.connect)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
                        let tlsHandler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tlsHandler)
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(maximumReplyBytes: maximumReplyBytes, deadAfter: deadAfter, onPush: onPush)
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch let error as ChannelError where error == .connectTimeout(configuration.timeouts.connect) {
            throw RedisClientError(.connectTimeout, "connect to \(configuration.host):\(configuration.port) timed out")
        } catch {
            throw RedisClientError(.unavailable, "connect to \(configuration.host):\(configuration.port) failed: \(error)")
        }
        let handler: NIOLoopBound<RedisChannelHandler>
        do {
            handler = try await channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self)
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
        } catch {
            // The connection died during set-up (e.g. a failed TLS handshake removed the handlers).
            channel.close(promise: nil)
            throw RedisClientError(.unavailable, "connection to \(configuration.host):\(configuration.port) closed during set-up")
        }
        let connection = RedisConnection(channel: channel, handler: handler)
        do {
            try await connection.handshake(configuration: configuration)
        } catch {
            connection.close()
            throw error
        }
        logger.debug(
            "redis connection established",
            metadata: ["redis.host": "\(configuration.host)", "redis.port": "\(configuration.port)"]
        )
        return connection
    }

    private func handshake(configuration: RedisConfiguration) async throws {
        let timeout = configuration.timeouts.connect
        var steps: [(RedisCommand, EventLoopFuture<RESPValue>)] = []
        if let password = configuration.password {
            var arguments = [RedisArgument]()
            if let username = configuration.username { arguments.append(RedisArgument(username)) }
            arguments.append(RedisArgument(password))
            let command = RedisCommand("AUTH", arguments)
            steps.append((command, self.send(command, timeout: timeout)))
        }
        if configuration.database != 0 {
            let command = RedisCommand("SELECT", RedisArgument(configuration.database))
            steps.append((command, self.send(command, timeout: timeout)))
        }
        if let name = configuration.clientName {
            let command = RedisCommand("CLIENT", "SETNAME", RedisArgument(name))
            steps.append((command, self.send(command, timeout: timeout)))
        }
        var versionReply: EventLoopFuture<RESPValue>? = nil
        if configuration.minimumServerVersion != nil {
            let command = RedisCommand("INFO", "server")
            let future = self.send(command, timeout: timeout)
            steps.append((command, future))
            versionReply = future
        }
        for (command, future) in steps {
            let reply: RESPValue
            do {
                reply = try await future.get()
            } catch let error as RedisClientError where error.code == .commandTimeout {
                throw RedisClientError(.connectTimeout, "handshake timed out")
            }
            if case .error(let serverError) = reply {
                switch serverError.kind {
                case .wrongPassword, .noAuth, .noPermission:
                    throw RedisClientError(.authenticationFailed, "\(command.name) refused: \(serverError.kind)")
                default:
                    throw RedisClientError(.invalidConfiguration, "\(command.name) refused: \(serverError.message)")
                }
            }
        }
        if let versionReply, let minimum = configuration.minimumServerVersion {
            let info = try await versionReply.get().string ?? ""
            guard let version = RedisServerVersion(info: info) else {
                throw RedisClientError(.unsupportedServer, "the server did not report its version (INFO server); the minimum is Redis \(minimum)")
            }
            guard version >= minimum else {
                throw RedisClientError(.unsupportedServer, "the server runs Redis \(version); the minimum is Redis \(minimum)")
            }
        }
    }

    /// Sends a command; the future completes with its reply (error replies are values, not failures).
    ///
    /// Fails with ``RedisClientError/commandTimeout`` after `timeout`, and then the connection is closed.
    public func send(_ command: RedisCommand, timeout: TimeAmount) -> EventLoopFuture<RESPValue> {
        let promise = self.channel.eventLoop.makePromise(of: RESPValue.self)
        let request = RedisRequest(payload: command.encoded, promise: promise, deadline: .now() + timeout)
        if self.channel.eventLoop.inEventLoop {
            self.handler.value.enqueue(request)
        } else {
            let handler = self.handler
            self.channel.eventLoop.execute {
                handler.value.enqueue(request)
            }
        }
        return promise.futureResult
    }

    /// Closes the connection; commands in flight fail with ``RedisClientError/connectionClosed``.
    public func close() {
        self.channel.close(promise: nil)
    }

    /// Closes the connection and waits until it is closed.
    public func closeAndWait() async {
        try? await self.channel.close()
    }
}
