import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SessionTokens

/// A short-lived access token from ``SessionClient/exchange(token:audience:ttl:)``. Treat it like the
/// session token: never log it.
public struct AccessToken: Sendable, CustomStringConvertible {
    /// The JWT, for `Authorization: Bearer`.
    public let value: String
    /// Its lifetime in seconds when issued (`expires_in`).
    public let expiresIn: Int
    /// When it expires (by this machine's clock).
    public let expiresAt: Date

    public var description: String { "AccessToken(redacted, expires in \(self.expiresIn) s)" }
}

extension SessionClient: KeySetSource, TokenIntrospector {
    /// Exchanges the session of `token` for an access token meant for `audience` (sessiond's
    /// `POST /v1/session/token`; the API key needs `tokens:issue`). `nil` when there is no valid session.
    /// The exchange slides the session's idle deadline like a resolve.
    public func exchange(token: String, audience: String, ttl: Duration? = nil) async throws -> AccessToken? {
        guard !token.isEmpty, token.utf8.count <= 512, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        var request = self.request("/v1/session/token", method: .POST)
        request.headers.add(name: "X-Session-Token", value: token)
        request.headers.add(name: "Content-Type", value: "application/json")
        var body: [String: Any] = ["audience": audience]
        if let ttl { body["ttl"] = ttl.components.seconds }
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let start = Date()
        let (status, responseBody) = try await self.execute(request)
        switch status {
        case 200:
            guard let object = try? JSONSerialization.jsonObject(with: responseBody) as? [String: Any],
                let value = object["access_token"] as? String, let expiresIn = object["expires_in"] as? Int
            else { throw SessionClientError(.invalidResponse, status: status, message: "malformed token response") }
            return AccessToken(value: value, expiresIn: expiresIn, expiresAt: start.addingTimeInterval(TimeInterval(expiresIn)))
        case 404:
            let error = Self.error(status: status, body: responseBody)
            guard error.serverCode == "session_not_found" else { throw error }
            return nil
        default:
            throw Self.error(status: status, body: responseBody)
        }
    }

    /// sessiond's public keys (`GET /.well-known/jwks.json`, no API key) and their `max-age`.
    public func fetchKeySet() async throws -> FetchedKeySet {
        var request = HTTPClientRequest(url: self.configuration.baseURL + "/.well-known/jwks.json")
        request.method = .GET
        let response = try await self.executeWithHeaders(request)
        guard response.status == 200 else { throw Self.error(status: response.status, body: response.body) }
        let keySet: KeySet
        do {
            keySet = try KeySet(jwks: Array(response.body))
        } catch {
            throw SessionClientError(.invalidResponse, status: response.status, message: "malformed JWKS")
        }
        return FetchedKeySet(keySet: keySet, maxAge: .seconds(Self.maxAge(response.headers["Cache-Control"].joined(separator: ",")) ?? 0))
    }

    /// Whether sessiond considers `token` active now (`POST /oauth2/introspect`; the API key needs
    /// `tokens:introspect`). Throws when sessiond cannot tell: never read that as inactive.
    public func isActive(_ token: String) async throws -> Bool {
        var request = self.request("/oauth2/introspect", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "token=" + Self.percentEncoded(token)))
        let (status, body) = try await self.execute(request)
        guard status == 200, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
            let active = object["active"] as? Bool
        else { throw Self.error(status: status, body: body) }
        return active
    }

    /// A ``TokenVerifier`` for tokens of `issuer` meant for one of `audiences`, fetching keys (and,
    /// with `introspect`, asking about every token) through this client.
    public func makeTokenVerifier(issuer: String, audiences: Set<String>, leeway: Duration = .seconds(5), introspect: Bool = false) -> TokenVerifier {
        TokenVerifier(
            configuration: .init(issuer: issuer, audiences: audiences, leeway: leeway, introspect: introspect),
            keySetSource: self,
            introspector: self
        )
    }

    /// `max-age` of a `Cache-Control` value.
    static func maxAge(_ cacheControl: String) -> Int64? {
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "max-age", let seconds = Int64(parts[1]), seconds >= 0 { return seconds }
        }
        return nil
    }
}
