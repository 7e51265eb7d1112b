/// A failure to get an answer from sessiond. `nil` results mean "no valid session"; this error means
/// "cannot tell", so callers can always fail closed.
public struct SessionClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public enum Code: String, Sendable, Hashable {
        /// 401: the API key is missing or unknown.
        case unauthorized
        /// 403: the API key lacks the scope.
        case forbidden
        /// sessiond could not be reached, timed out, or answered 5xx (503 `store_unavailable` included).
        case unavailable
        /// 400/413/415: sessiond refused the request as malformed.
        case invalidRequest
        /// 412: `If-Match` named an old version.
        case versionMismatch
        /// 409: concurrent updates; retry.
        case conflict
        /// 404 on an admin call (e.g. unknown handle).
        case notFound
        /// sessiond's answer could not be understood, or is not an answer to the question asked (a
        /// session with another handle, a 404 that is not sessiond's `session_not_found`).
        case invalidResponse
        /// Too many callers already wait for a connection to sessiond (see
        /// ``SessionClientConfiguration/maximumWaiters``); fail closed like ``unavailable``.
        case overloaded
    }

    /// The class of failure.
    public let code: Code
    /// HTTP status, when there was a response.
    public let status: Int?
    /// sessiond's stable error code (`store_unavailable`, …), when it sent one.
    public let serverCode: String?
    /// Details for logs (never a token).
    public let message: String

    init(_ code: Code, status: Int? = nil, serverCode: String? = nil, message: String) {
        self.code = code
        self.status = status
        self.serverCode = serverCode
        self.message = message
    }

    /// Whether the error means "sessiond cannot answer now" (fail closed: 503 to your caller).
    public var isUnavailable: Bool { self.code == .unavailable || self.code == .overloaded }

    public var description: String {
        "SessionClientError.\(self.code.rawValue)(\(self.status.map(String.init) ?? "-")): \(self.message)"
    }
}
