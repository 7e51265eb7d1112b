import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import SessionCore

/// The v1 session API: request validation, token extraction and calls into the repository.
struct SessionRoutes: Sendable {
    let repository: any SessionRepository
    let configuration: SessionServiceConfiguration
    let metrics: SessionMetrics

    static let sessionTokenHeader = HTTPField.Name("X-Session-Token")!

    func register(on group: RouterGroup<SessionRequestContext>) {
        group.post("sessions", use: self.create)
        group.get("session", use: self.resolve)
        group.patch("session", use: self.update)
        group.post("session/rotate", use: self.rotate)
        group.delete("session", use: self.destroy)
        group.get("users/:user_id/sessions", use: self.list)
        group.delete("users/:user_id/sessions", use: self.purge)
        group.delete("sessions/:handle", use: self.destroyHandle)
    }

    // MARK: Handlers

    @Sendable func create(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.create, named: "sessions:create")
        let body = try await self.jsonBody(request, context: context)
        return JSONResponses.response(.created, try await self.create(body))
    }

    /// Validates and stores a new session; the 201 body. Shared by the router and the fast path.
    func create(_ body: JSONValue) async throws -> [UInt8] {
        let newSession = try self.validateCreate(body)
        let issued = try await self.repository.create(newSession)
        self.metrics.created.increment()
        if issued.evicted > 0 { self.metrics.evicted.increment(by: issued.evicted) }
        return JSONResponses.issued(issued, setCookie: self.setCookie(issued))
    }

    @Sendable func resolve(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.read, named: "sessions:read")
        guard let token = self.token(in: request), let session = try await self.repository.resolve(token) else {
            throw SessionAPIError.sessionNotFound
        }
        return JSONResponses.response(.ok, JSONResponses.session(session), headers: [.eTag: "\"\(session.version)\""])
    }

    @Sendable func update(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.write, named: "sessions:write")
        let expectedVersion = try self.ifMatchVersion(request)
        let patch = try await self.jsonBody(request, context: context, mergePatch: true)
        guard patch.isObject else { throw SessionAPIError.invalidRequest("the merge patch of data must be a JSON object") }
        guard let token = self.token(in: request) else { throw SessionAPIError.sessionNotFound }
        let maximumDataBytes = self.configuration.limits.maximumDataBytes
        // Whatever it merges into, the result holds every non-null member of the patch.
        guard patch.minimumMergedSize <= maximumDataBytes else {
            throw SessionAPIError.payloadTooLarge("data would exceed \(maximumDataBytes) bytes")
        }
        let updated = try await self.repository.update(token, expectedVersion: expectedVersion) { session in
            let current: JSONValue
            do {
                current = try session.data()
            } catch {
                throw SessionAPIError.internalError
            }
            var bytes = [UInt8]()
            current.mergePatched(with: patch).serialize(into: &bytes)
            guard bytes.count <= maximumDataBytes else {
                throw SessionAPIError.payloadTooLarge("data would exceed \(maximumDataBytes) bytes")
            }
            return bytes
        }
        guard let updated else { throw SessionAPIError.sessionNotFound }
        return JSONResponses.response(.ok, JSONResponses.session(updated), headers: [.eTag: "\"\(updated.version)\""])
    }

    @Sendable func rotate(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.write, named: "sessions:write")
        guard let token = self.token(in: request), let issued = try await self.repository.rotate(token) else {
            throw SessionAPIError.sessionNotFound
        }
        return JSONResponses.response(.ok, JSONResponses.issued(issued, setCookie: self.setCookie(issued)))
    }

    @Sendable func destroy(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.write, named: "sessions:write")
        var destroyed = false
        if let token = self.token(in: request), try await self.repository.destroy(token) {
            self.metrics.destroyed.increment()
            destroyed = true
        }
        var body = Array(#"{"destroyed":\#(destroyed),"set_cookie":"#.utf8)
        JSONValue.appendQuoted(self.clearCookie(), to: &body)
        body.append(UInt8(ascii: "}"))
        return JSONResponses.response(.ok, body)
    }

    @Sendable func list(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.admin, named: "sessions:admin")
        let userID = try self.userID(context)
        let sessions = try await self.repository.sessions(ofUser: userID)
        return JSONResponses.response(.ok, JSONResponses.sessions(sessions))
    }

    @Sendable func purge(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.admin, named: "sessions:admin")
        let userID = try self.userID(context)
        var except: SessionHandle? = nil
        if let text = request.uri.queryParameters.get("except") {
            guard let handle = SessionHandle(parsing: text) else { throw SessionAPIError.invalidRequest("except is not a session handle") }
            except = handle
        }
        let destroyed = try await self.repository.purge(user: userID, except: except)
        self.metrics.purged.increment(by: destroyed)
        context.logger.notice("user sessions purged", metadata: ["sessions.destroyed": "\(destroyed)"])
        return JSONResponses.response(.ok, Array(#"{"destroyed":\#(destroyed)}"#.utf8))
    }

    @Sendable func destroyHandle(_ request: Request, context: SessionRequestContext) async throws -> Response {
        try context.require(.admin, named: "sessions:admin")
        guard let text = context.parameters.get("handle"), let handle = SessionHandle(parsing: text),
            try await self.repository.destroy(handle: handle)
        else {
            throw SessionAPIError.sessionNotFound
        }
        self.metrics.destroyed.increment()
        return Response(status: .noContent)
    }

    // MARK: Input

    /// The token from `X-Session-Token`, else from the configured cookie in `Cookie`. `nil` when absent or
    /// not shaped like a token (so a malformed token never costs a Redis call).
    func token(in request: Request) -> SessionToken? {
        Self.token(
            header: request.headers[Self.sessionTokenHeader],
            cookieHeaders: request.headers[values: .cookie],
            cookieName: self.configuration.cookie.name
        )
    }

    /// The token from an `X-Session-Token` value, else from cookie `cookieName` in the `Cookie` values.
    /// Shared by the router and the resolve fast path, so both read tokens the same way.
    static func token(header: String?, cookieHeaders: [String], cookieName: String) -> SessionToken? {
        if let header {
            return SessionToken(parsing: Substring(header).trimmingSpaces)
        }
        for cookieHeader in cookieHeaders {
            for pair in cookieHeader.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == cookieName else { continue }
                var value = trimmed[trimmed.index(after: equals)...]
                while value.last == " " { value = value.dropLast() }
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
                return SessionToken(parsing: value)
            }
        }
        return nil
    }

    private func ifMatchVersion(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch] else { return nil }
        var text = Substring(header.trimmingCharacters(in: .whitespaces))
        if text == "*" { return nil }
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        // The ETag is "<version>"; a bare number is accepted too (a tolerant reader).
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        guard text.count <= 9, let version = Int(text), version >= 0 else {
            throw SessionAPIError.invalidRequest("If-Match must be a quoted version, e.g. \"3\"")
        }
        return version
    }

    private func userID(_ context: SessionRequestContext) throws -> String {
        guard let raw = context.parameters.get("user_id"), let userID = raw.removingPercentEncoding,
            (1...256).contains(userID.utf8.count)
        else {
            throw SessionAPIError.invalidRequest("user_id must be 1–256 bytes")
        }
        return userID
    }

    private func jsonBody(_ request: Request, context: SessionRequestContext, mergePatch: Bool = false) async throws -> JSONValue {
        guard Self.isJSON(contentType: request.headers[.contentType], mergePatch: mergePatch) else {
            throw SessionAPIError.unsupportedMediaType
        }
        let limit = self.configuration.limits.maximumBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw SessionAPIError.payloadTooLarge("the request body exceeds \(limit) bytes")
        }
        return try Self.parseJSON(buffer)
    }

    /// Whether a `Content-Type` value names JSON (or, for PATCH, a merge patch).
    static func isJSON(contentType: String?, mergePatch: Bool = false) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.trimmingSpaces
        return mediaType.equalsIgnoringASCIICase("application/json")
            || (mergePatch && mediaType.equalsIgnoringASCIICase("application/merge-patch+json"))
    }

    /// A request body as JSON; 400 `invalid_request` when it is not.
    static func parseJSON(_ buffer: ByteBuffer) throws -> JSONValue {
        do {
            return try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            throw SessionAPIError.invalidRequest(error.isTooDeep ? "JSON nesting is deeper than 32 levels" : "malformed JSON: \(error.message)")
        }
    }

    private func validateCreate(_ body: JSONValue) throws -> NewSession {
        guard case .object(let members) = body else { throw SessionAPIError.invalidRequest("the body must be a JSON object") }
        let allowed: Set<String> = ["user_id", "data", "idle_timeout", "absolute_timeout", "metadata"]
        if let unknown = members.first(where: { !allowed.contains($0.key) }) {
            throw SessionAPIError.invalidRequest("unknown field \(Self.describe(unknown.key))")
        }
        guard case .string(let userID) = body["user_id"] else { throw SessionAPIError.invalidRequest("user_id must be a string") }
        guard (1...256).contains(userID.utf8.count) else { throw SessionAPIError.invalidRequest("user_id must be 1–256 bytes") }
        var dataJSON = Array("{}".utf8)
        if let data = body["data"] {
            guard data.isObject else { throw SessionAPIError.invalidRequest("data must be a JSON object") }
            dataJSON = []
            data.serialize(into: &dataJSON)
            let limit = self.configuration.limits.maximumDataBytes
            guard dataJSON.count <= limit else { throw SessionAPIError.payloadTooLarge("data exceeds \(limit) bytes") }
        }
        let lifetimes = self.configuration.lifetimes
        let idle = try Self.seconds(body["idle_timeout"], name: "idle_timeout", default: lifetimes.defaultIdle, maximum: lifetimes.maximumIdle)
        let absolute = try Self.seconds(
            body["absolute_timeout"], name: "absolute_timeout", default: lifetimes.defaultAbsolute, maximum: lifetimes.maximumAbsolute
        )
        var metadataMembers: [(key: String, value: JSONValue)] = []
        if let metadata = body["metadata"] {
            guard case .object(let fields) = metadata else { throw SessionAPIError.invalidRequest("metadata must be a JSON object") }
            for (key, value) in fields {
                let limit: Int
                switch key {
                case "ip": limit = 64
                case "user_agent": limit = 512
                default: throw SessionAPIError.invalidRequest("unknown metadata field \(Self.describe(key))")
                }
                if case .null = value { continue }
                // Counted in Unicode code points, as JSON Schema's maxLength counts them.
                guard case .string(let text) = value, text.unicodeScalars.count <= limit else {
                    throw SessionAPIError.invalidRequest("metadata.\(key) must be a string of at most \(limit) characters")
                }
                metadataMembers.append((key, .string(text)))
            }
        }
        var metadataJSON = [UInt8]()
        JSONValue.object(metadataMembers).serialize(into: &metadataJSON)
        return NewSession(
            userID: userID,
            dataJSON: dataJSON,
            metadataJSON: metadataJSON,
            idleTimeout: Int64(idle) * 1000,
            absoluteTimeout: Int64(absolute) * 1000
        )
    }

    private static func seconds(_ value: JSONValue?, name: String, default defaultValue: Int, maximum: Int) throws -> Int {
        guard let value, value != .null else { return defaultValue }
        // JSON has one number type: 60, 60.0 and 6e1 are the same whole number.
        guard case .number(let text) = value, let number = Double(text), number.rounded() == number, abs(number) < 1e15 else {
            throw SessionAPIError.invalidRequest("\(name) must be a whole number of seconds")
        }
        let seconds = Int(number)
        guard seconds >= 1, seconds <= maximum else {
            throw SessionAPIError.invalidRequest("\(name) must be between 1 and \(maximum) seconds")
        }
        return seconds
    }

    /// A field name safe to echo: short and printable.
    static func describe(_ key: String) -> String {
        let printable = key.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        return printable && key.count <= 64 ? "'\(key)'" : "(unprintable name)"
    }

    // MARK: Cookie

    /// The `Set-Cookie` value that deletes the session cookie: same name, `Path` and `Domain` as the
    /// one ``setCookie(_:)`` sets, no value, `Max-Age=0`.
    func clearCookie() -> String {
        let cookie = self.configuration.cookie
        var value = "\(cookie.name)=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=\(cookie.sameSite.rawValue)"
        if let domain = cookie.domain { value += "; Domain=\(domain)" }
        return value
    }

    /// The `Set-Cookie` value for a newly issued token; a persistent cookie lives until the absolute deadline.
    func setCookie(_ issued: IssuedSession) -> String {
        let cookie = self.configuration.cookie
        var value = "\(cookie.name)=\(issued.token.value); Path=/; Secure; HttpOnly; SameSite=\(cookie.sameSite.rawValue)"
        if let domain = cookie.domain { value += "; Domain=\(domain)" }
        if cookie.isPersistent {
            value += "; Max-Age=\(max(1, (issued.session.expiresAt - issued.session.lastSeenAt) / 1000))"
        }
        return value
    }
}

/// Counters of session events.
struct SessionMetrics: Sendable {
    let created = Counter(label: "sessiond_sessions_created_total")
    let destroyed = Counter(label: "sessiond_sessions_destroyed_total")
    let purged = Counter(label: "sessiond_sessions_purged_total")
    let evicted = Counter(label: "sessiond_sessions_evicted_total")
}

extension Substring.UTF8View {
    /// Without spaces at either end.
    fileprivate var trimmingSpaces: Substring.UTF8View {
        var view = self
        while view.first == UInt8(ascii: " ") { view = view.dropFirst() }
        while view.last == UInt8(ascii: " ") { view = view.dropLast() }
        return view
    }

    /// Byte-wise equality with `other`, ASCII letters compared without case.
    fileprivate func equalsIgnoringASCIICase(_ other: StaticString) -> Bool {
        guard self.count == other.utf8CodeUnitCount else { return false }
        return other.withUTF8Buffer { expected in
            zip(self, expected).allSatisfy { actual, wanted in
                let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(actual) ? actual | 0x20 : actual
                return lower == wanted
            }
        }
    }
}
