import Logging
import NIOCore

/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel it was published to.
    public let channel: String
    /// The payload.
    public let payload: ByteBuffer
}

/// A subscription on a dedicated connection. Iterate it for messages; ``close()`` ends it.
public final class RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubMessage
    private let connection: RedisConnection
    private let stream: AsyncStream<RedisPubSubMessage>

    init(connection: RedisConnection, stream: AsyncStream<RedisPubSubMessage>) {
        self.connection = connection
        self.stream = stream
    }

    public func makeAsyncIterator() -> AsyncStream<RedisPubSubMessage>.AsyncIterator {
        self.stream.makeAsyncIterator()
    }

    /// Closes the subscriber connection; iteration ends.
    public func close() async {
        await self.connection.closeAndWait()
    }
}

extension RedisClient {
    /// `PUBLISH channel message`: how many subscribers received it.
    @discardableResult
    public func publish(_ message: RedisArgument, to channel: String) async throws -> Int {
        try await self.send(RedisCommand("PUBLISH", RedisArgument(channel), message)).int ?? 0
    }

    /// Subscribes to `channels` on a new connection that serves nothing else: to the primary
    /// (Sentinel: the one the sentinels name now; Cluster: one of the primaries, where classic pub/sub
    /// sees every node's `PUBLISH`).
    ///
    /// Returns once the server has confirmed every subscription, so a message published after
    /// this returns is delivered.
    public func subscribe(to channels: [String]) async throws -> RedisSubscription {
        let target = try await self.primaryConfiguration(slot: nil)
        return try await Self.subscribe(configuration: target, channels: channels, eventLoop: self.eventLoopGroup.next(), logger: self.logger)
    }

    /// Subscribes to `channels` on a new connection to the server `configuration` names.
    static func subscribe(
        configuration: RedisConfiguration,
        channels: [String],
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws -> RedisSubscription {
        let (stream, continuation) = AsyncStream.makeStream(of: RedisPubSubMessage.self, bufferingPolicy: .bufferingNewest(10_000))
        let connection = try await RedisConnection.connect(
            configuration: configuration,
            eventLoop: eventLoop,
            logger: logger,
            onPush: { push in
                guard case .array(let parts) = push, parts.count == 3,
                    let channel = parts[1].string, case .bulkString(let payload) = parts[2]
                else { return }
                continuation.yield(RedisPubSubMessage(channel: channel, payload: payload))
            }
        )
        let closeFuture = connection.closeFuture
        closeFuture.whenComplete { _ in continuation.finish() }
        // Each SUBSCRIBE of one channel is confirmed by exactly one reply, which completes its slot.
        // The subscribe timeout is generous: confirmation is what makes delivery guaranteed.
        for channel in channels {
            let reply = try await connection.send(
                RedisCommand("SUBSCRIBE", RedisArgument(channel)),
                timeout: configuration.timeouts.connect
            ).get()
            if case .error(let error) = reply {
                connection.close()
                throw error
            }
        }
        return RedisSubscription(connection: connection, stream: stream)
    }
}
