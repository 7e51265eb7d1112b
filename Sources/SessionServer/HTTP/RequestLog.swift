import Logging
import Metrics
import NIOConcurrencyHelpers

/// One log line and one latency sample per request, for every way a request is served (the router and
/// the resolve fast path alike): method, route template, status, latency and the caller's key name;
/// never a token, session data or a Redis key.
struct RequestLog: Sendable {
    private let timers = RequestTimers()

    /// - Parameter requestID: the request's `hb.request.id` when `logger` does not carry one already
    ///   (the fast path; the router's request loggers have it).
    func record(
        method: String,
        route: String,
        status: Int,
        since start: ContinuousClock.Instant,
        caller: String?,
        requestID: String? = nil,
        logger: Logger
    ) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        if logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "http.method": "\(method)",
                "http.route": "\(route)",
                "http.status": "\(status)",
                "http.latency_ms": "\(Double(nanoseconds / 1000) / 1000)",
                "caller": "\(caller ?? "-")",
            ]
            if let requestID { metadata["hb.request.id"] = "\(requestID)" }
            logger.info("request", metadata: metadata)
        }
        self.timers.timer(method: method, route: route, status: status).recordNanoseconds(nanoseconds)
    }
}

/// Per-(method, route, status) request timers, created once: making a dimensioned timer costs a
/// registry lookup that does not belong on every request.
final class RequestTimers: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private let timers = NIOLockedValueBox<[Key: Metrics.Timer]>([:])

    func timer(method: String, route: String, status: Int) -> Metrics.Timer {
        let key = Key(method: method, route: route, status: status)
        return self.timers.withLockedValue { timers in
            if let timer = timers[key] { return timer }
            let timer = Metrics.Timer(
                label: "sessiond_http_request_duration_seconds",
                dimensions: [("method", method), ("route", route), ("status", String(status))],
                preferredDisplayUnit: .seconds
            )
            timers[key] = timer
            return timer
        }
    }
}

