import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// How a ``SessionClient`` proves who it is to sessiond. Printing it never shows a secret.
public enum CallerCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// A static API key, sent as `Authorization: Bearer <key>` on every request.
    case apiKey(String)
    /// OAuth 2.0 client credentials (the key's name and secret): the secret goes to sessiond's
    /// `/oauth2/token` only, and requests carry a short-lived access token instead.
    case clientCredentials(clientID: String, clientSecret: String, scope: String?)

    public var description: String {
        switch self {
        case .apiKey: return "apiKey(redacted)"
        case .clientCredentials(let clientID, _, let scope): return "clientCredentials(\(clientID), redacted, scope: \(scope ?? "all"))"
        }
    }

    public var debugDescription: String { self.description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}

/// The `Authorization` value for each request. For client credentials: fetches a token, reuses it
/// until about 80 % of its lifetime, then fetches the next (one fetch at a time, shared by every
/// caller); ``invalidate(_:)`` after a 401 makes the next call fetch a new one. Never logs or
/// prints the secret or a token.
final class CredentialProvider: Sendable, CustomStringConvertible {
    private struct Current {
        var authorization: String
        var refreshAt: ContinuousClock.Instant
    }

    private let credentials: CallerCredentials
    private let current: Mutex<Current?>
    private let fetching = Mutex<Task<Current, any Error>?>(nil)
    private let tokenURL: String
    private let http: HTTPClient
    private let timeout: TimeAmount

    init(credentials: CallerCredentials, baseURL: String, http: HTTPClient, timeout: TimeAmount) {
        self.credentials = credentials
        self.tokenURL = baseURL + "/oauth2/token"
        self.http = http
        self.timeout = timeout
        if case .apiKey(let key) = credentials {
            self.current = Mutex(Current(authorization: "Bearer \(key)", refreshAt: .now + .seconds(86_400 * 365 * 100)))
        } else {
            self.current = Mutex(nil)
        }
    }

    /// Whether the credentials are client credentials (tokens that can be refreshed).
    var refreshes: Bool {
        if case .clientCredentials = self.credentials { return true }
        return false
    }

    /// The value for the `Authorization` header now.
    func authorization() async throws -> String {
        if let current = self.current.withLock({ $0 }), ContinuousClock.now < current.refreshAt { return current.authorization }
        return try await self.fetch().authorization
    }

    /// Forgets `authorization` (sessiond answered 401 to it), so the next call fetches a new token.
    func invalidate(_ authorization: String) {
        guard self.refreshes else { return }
        self.current.withLock { current in
            if current?.authorization == authorization { current = nil }
        }
    }

    private func fetch() async throws -> Current {
        let task = self.fetching.withLock { running -> Task<Current, any Error> in
            if let running { return running }
            let task = Task { [self] in
                defer { self.fetching.withLock { $0 = nil } }
                let fresh = try await self.requestToken()
                self.current.withLock { $0 = fresh }
                return fresh
            }
            running = task
            return task
        }
        return try await task.value
    }

    private func requestToken() async throws -> Current {
        guard case .clientCredentials(let clientID, let clientSecret, let scope) = self.credentials else {
            throw SessionClientError(.unauthorized, message: "no credentials")
        }
        let encode = SessionClient.percentEncoded
        // RFC 6749 §2.3.1: both parts form-urlencoded, then joined with ":" and base64-encoded.
        let basic = Data((encode(clientID) + ":" + encode(clientSecret)).utf8).base64EncodedString()
        var request = HTTPClientRequest(url: self.tokenURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic \(basic)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        var body = "grant_type=client_credentials"
        if let scope { body += "&scope=" + encode(scope) }
        request.body = .bytes(ByteBuffer(string: body))
        let started = ContinuousClock.now
        let status: Int
        let payload: Data
        do {
            let response = try await self.http.execute(request, timeout: self.timeout)
            status = Int(response.status.code)
            payload = Data((try await response.body.collect(upTo: 64 * 1024)).readableBytesView)
        } catch {
            throw SessionClientError(.unavailable, message: "sessiond unreachable: token request failed (\(type(of: error)))")
        }
        let object = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any]
        guard status == 200 else {
            let code = object?["error"] as? String
            let message = "sessiond refused the client credentials: \(status)\(code.map { " \($0)" } ?? "")"
            switch status {
            case 400, 401: throw SessionClientError(.unauthorized, status: status, serverCode: code, message: message)
            case 429, 500...: throw SessionClientError(.unavailable, status: status, serverCode: code, message: message)
            default: throw SessionClientError(.invalidResponse, status: status, serverCode: code, message: message)
            }
        }
        guard let token = object?["access_token"] as? String, let expiresIn = object?["expires_in"] as? Int, expiresIn > 0,
            token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), token.utf8.count <= 8192
        else { throw SessionClientError(.invalidResponse, status: status, message: "malformed token response") }
        // Refresh at about 80 % of the lifetime, counted from when the request was sent.
        return Current(authorization: "Bearer \(token)", refreshAt: started + .milliseconds(Int64(expiresIn) * 800))
    }

    var description: String { "CredentialProvider(redacted)" }
}
