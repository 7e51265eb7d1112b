import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// A Swift concurrency task executor that runs jobs on one NIO event loop.
///
/// A task that prefers this executor runs its nonisolated async code on the event loop's thread: the
/// request, the Redis connection of the same loop and the response write then stay on one thread,
/// with no hop to the global concurrency pool and back for every `await`.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// One ``EventLoopTaskExecutor`` per loop of a group.
struct EventLoopTaskExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(_ group: any EventLoopGroup) {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for eventLoop in group.makeIterator() {
            executors[ObjectIdentifier(eventLoop)] = EventLoopTaskExecutor(eventLoop: eventLoop)
        }
        self.executors = executors
    }

    func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor? {
        self.executors[ObjectIdentifier(eventLoop)]
    }
}

/// sessiond's HTTP/1 connection: Hummingbird's request handling behind a fast path.
///
/// Pipeline, from the socket inwards:
/// `ByteWatcher` (read and idle clocks) → HTTP decoder/encoder → `HTTPServerPipelineHandler` (one
/// request at a time, responses in order, quiescing) → ``ConnectionPolicyHandler`` (read and idle
/// clocks, HTTP/1.0 and `Connection: close`) → ``FastPath``
/// (answers `GET /v1/session` and `POST /v1/sessions` itself) → Hummingbird's codec,
/// connection-state handler and router for everything else.
/// See docs/architecture.md, "The fast path".
struct SessionHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let requestReadTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let fastPath: FastPath.Service?
    let executors: EventLoopTaskExecutors

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldCount = 1000  // Hummingbird's default
            try operations.configureHTTPServerPipeline(
                withPipeliningAssistance: true,
                withErrorHandling: false,  // Hummingbird answers parse errors
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            try operations.addHandler(ConnectionPolicyHandler(readTimeout: self.requestReadTimeout, idleTimeout: self.idleTimeout))
            if let fastPath = self.fastPath {
                try operations.addHandler(
                    FastPath(service: fastPath, executor: self.executors.executor(for: channel.eventLoop))
                )
            }
            try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // Idle connections are closed by ConnectionPolicyHandler, which sees both paths' traffic.
            try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.handleHTTP(asyncChannel: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// sessiond's HTTP/1 server (see ``SessionHTTPChannel``).
    static func sessionHTTP1(
        requestReadTimeout: TimeAmount,
        idleTimeout: TimeAmount,
        fastPath: FastPath.Service?,
        eventLoopGroup: any EventLoopGroup
    ) -> HTTPServerBuilder {
        let executors = EventLoopTaskExecutors(eventLoopGroup)
        return .init { responder in
            SessionHTTPChannel(
                responder: responder,
                requestReadTimeout: requestReadTimeout,
                idleTimeout: idleTimeout,
                fastPath: fastPath,
                executors: executors
            )
        }
    }
}
