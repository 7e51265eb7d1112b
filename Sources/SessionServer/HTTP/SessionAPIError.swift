import HTTPTypes

/// An error the API reports to its caller: one HTTP status, one stable code, a message for humans.
/// Messages never contain tokens, session data, Redis commands or keys.
public struct SessionAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case unauthorized
        case forbidden
        case sessionNotFound = "session_not_found"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case conflict
        case versionMismatch = "version_mismatch"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case storeUnavailable = "store_unavailable"
        case internalError = "internal_error"
        case tokensNotConfigured = "tokens_not_configured"
        case signingKeyUnavailable = "signing_key_unavailable"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        case unsupportedTokenType = "unsupported_token_type"
        case unauthorizedClient = "unauthorized_client"
        case tooManyRequests = "too_many_requests"
    }

    private let code: Code
    /// The message for humans.
    public let message: String
    /// A status other than the code's usual one (forward-auth answers "no session" with 401).
    private let statusOverride: HTTPResponse.Status?
    /// Seconds for `Retry-After` (429 answers).
    public let retryAfter: Int?

    private init(_ code: Code, _ message: String, status: HTTPResponse.Status? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.statusOverride = status
        self.retryAfter = retryAfter
    }

    /// `Retry-After` of every 503: the store may be failing over; ask again in a second.
    static let retryAfterSeconds = "1"

    /// The stable machine-readable code of the error body.
    public var codeString: String { self.code.rawValue }

    /// The code on `/oauth2/*` (RFC 6749 §5.2): `invalid_client` for 401, else the same code.
    public var oauthCode: String { self.code == .unauthorized ? "invalid_client" : self.code.rawValue }

    /// The HTTP status.
    public var status: HTTPResponse.Status {
        if let statusOverride { return statusOverride }
        switch self.code {
        case .invalidRequest, .unsupportedGrantType, .invalidScope, .unsupportedTokenType: return .badRequest
        case .unauthorizedClient: return .forbidden
        case .tooManyRequests: return .tooManyRequests
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .sessionNotFound, .notFound, .tokensNotConfigured: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .conflict: return .conflict
        case .versionMismatch: return .preconditionFailed
        case .payloadTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .storeUnavailable, .signingKeyUnavailable: return .serviceUnavailable
        case .internalError: return .internalServerError
        }
    }

    public var description: String { "\(self.code.rawValue): \(self.message)" }

    /// 400 `invalid_request`.
    public static func invalidRequest(_ message: String) -> Self { Self(.invalidRequest, message) }
    /// 401 `unauthorized`.
    public static let unauthorized = Self(.unauthorized, "missing or unknown API key or access token")
    /// 403 `forbidden`.
    public static func forbidden(_ scope: String) -> Self { Self(.forbidden, "this API key lacks the \(scope) scope") }
    /// 404 `session_not_found`: unknown, expired, destroyed, rotated-away or malformed token, all alike.
    public static let sessionNotFound = Self(.sessionNotFound, "no valid session")
    /// 401 `session_not_found`: forward-auth found no valid session, so the gateway must refuse the request.
    public static let noSessionAtGateway = Self(.sessionNotFound, "no valid session", status: .unauthorized)
    /// 404 `tokens_not_configured`: sessiond runs without a signing-keys file.
    public static let tokensNotConfigured = Self(.tokensNotConfigured, "access tokens are not configured (no --signing-keys-file)")
    /// 503 `signing_key_unavailable`: no signing key is inside its window (every SIGN_UNTIL has passed).
    public static let signingKeyUnavailable = Self(.signingKeyUnavailable, "no signing key is valid now; retry later")
    /// 404 `not_found`: no such route.
    public static let notFound = Self(.notFound, "no such resource")
    /// 405 `method_not_allowed`.
    public static let methodNotAllowed = Self(.methodNotAllowed, "method not allowed on this resource")
    /// 409 `conflict`.
    public static let conflict = Self(.conflict, "the session was updated concurrently; retry")
    /// 412 `version_mismatch`.
    public static let versionMismatch = Self(.versionMismatch, "If-Match does not name the current version")
    /// 413 `payload_too_large`.
    public static func payloadTooLarge(_ message: String) -> Self { Self(.payloadTooLarge, message) }
    /// 415 `unsupported_media_type`.
    public static let unsupportedMediaType = Self(.unsupportedMediaType, "the body must be application/json")
    /// 400 `unsupported_grant_type` (OAuth): anything but `client_credentials`.
    public static let unsupportedGrantType = Self(.unsupportedGrantType, "only grant_type=client_credentials is supported")
    /// 400 `invalid_scope` (OAuth).
    public static let invalidScope = Self(.invalidScope, "scope names a scope this client does not have")
    /// 400 `unsupported_token_type` (OAuth revocation): session access tokens end with their session.
    public static let unsupportedTokenType = Self(.unsupportedTokenType, "session access tokens end with their session; destroy the session")
    /// 403 `unauthorized_client` (OAuth revocation): the token belongs to another client.
    public static let unauthorizedClient = Self(.unauthorizedClient, "the token was issued to another client")
    /// 401 `unauthorized` (`invalid_client` on /oauth2/*): the same answer whether or not the client exists.
    public static let invalidClient = Self(.unauthorized, "client authentication failed")
    /// 429 `too_many_requests`: too many failed authentications; retry after `seconds`.
    public static func tooManyRequests(retryAfter seconds: Int) -> Self {
        Self(.tooManyRequests, "too many failed authentications; retry later", retryAfter: max(1, seconds))
    }
    /// 415 `unsupported_media_type` with its own message.
    public static func unsupportedForm(_ message: String) -> Self { Self(.unsupportedMediaType, message) }
    /// 503 `store_unavailable`.
    public static let storeUnavailable = Self(.storeUnavailable, "the session store is unavailable; retry later")
    /// 500 `internal_error`.
    public static let internalError = Self(.internalError, "internal error")
}
