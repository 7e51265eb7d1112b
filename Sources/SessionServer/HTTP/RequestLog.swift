import Logging
import Metrics
import NIOConcurrencyHelpers

/// One log line and one latency sample per request, for every way a request is served (the router and
/// the resolve fast path alike): method, route template, status, latency and the caller's key name;
/// never a token, session data or a Redis key.
///
/// With an ``AccessLog`` (what sessiond runs with) the line is formatted straight into bytes and
/// written in batches off the request's thread; without one (tests, embedding) it goes through the
/// request's `Logger` with the same fields.
struct RequestLog: Sendable {
    private let timers = RequestTimers()
    let accessLog: AccessLog?

    init(accessLog: AccessLog? = nil) {
        self.accessLog = accessLog
    }

    /// - Parameter newRequestID: give the line a new `hb.request.id` (the fast path; the router's
    ///   request loggers carry one already).
    func record(
        method: String,
        route: String,
        status: Int,
        since start: ContinuousClock.Instant,
        caller: String?,
        newRequestID: Bool = false,
        logger: Logger
    ) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        self.line(method: method, route: route, status: status, nanoseconds: nanoseconds, caller: caller, newRequestID: newRequestID, logger: logger)
        self.timers.timer(method: method, route: route, status: status).recordNanoseconds(nanoseconds)
    }

    /// The log line alone.
    func line(method: String, route: String, status: Int, nanoseconds: Int64, caller: String?, newRequestID: Bool, logger: Logger) {
        if logger.logLevel <= .info, let accessLog = self.accessLog {
            accessLog.write(
                method: method,
                route: route,
                status: status,
                latencyNanoseconds: nanoseconds,
                caller: caller,
                requestID: newRequestID ? FastPathRequestID.next() : logger[metadataKey: "hb.request.id"]?.description
            )
        } else if logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "http.method": "\(method)",
                "http.route": "\(route)",
                "http.status": "\(status)",
                "http.latency_ms": "\(Double(nanoseconds / 1000) / 1000)",
                "caller": "\(caller ?? "-")",
            ]
            if newRequestID { metadata["hb.request.id"] = "\(FastPathRequestID.next())" }
            logger.info("request", metadata: metadata)
        }
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

