import HTTPTypes
import Hummingbird
import NIOCore
import SessionCore

/// Builds response bodies by splicing stored JSON: no decode/re-encode of `data` on the hot path.
enum JSONResponses {
    static let contentType = "application/json"

    /// Appends the session object of the v1 contract.
    static func appendSession(_ session: StoredSession, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"handle":""#.utf8)
        bytes.append(contentsOf: session.handle.value.utf8)
        bytes.append(contentsOf: #"","user_id":"#.utf8)
        bytes.append(contentsOf: session.userIDJSON)
        bytes.append(contentsOf: #","data":"#.utf8)
        bytes.append(contentsOf: session.dataJSON)
        bytes.append(contentsOf: #","created_at":""#.utf8)
        Timestamp.appendRFC3339(milliseconds: session.createdAt, to: &bytes)
        bytes.append(contentsOf: #"","last_seen_at":""#.utf8)
        Timestamp.appendRFC3339(milliseconds: session.lastSeenAt, to: &bytes)
        bytes.append(contentsOf: #"","idle_expires_at":""#.utf8)
        Timestamp.appendRFC3339(milliseconds: session.idleExpiresAt, to: &bytes)
        bytes.append(contentsOf: #"","expires_at":""#.utf8)
        Timestamp.appendRFC3339(milliseconds: session.expiresAt, to: &bytes)
        bytes.append(contentsOf: #"","version":"#.utf8)
        bytes.append(contentsOf: String(session.version).utf8)
        bytes.append(contentsOf: #","metadata":"#.utf8)
        bytes.append(contentsOf: session.metadataJSON)
        bytes.append(UInt8(ascii: "}"))
    }

    static func session(_ session: StoredSession) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(300 + session.dataJSON.count + session.metadataJSON.count)
        self.appendSession(session, to: &bytes)
        return bytes
    }

    /// `{"token":…,"session":…,"set_cookie":…}`.
    static func issued(_ issued: IssuedSession, setCookie: String) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.append(contentsOf: #"{"token":""#.utf8)
        bytes.append(contentsOf: issued.token.value.utf8)
        bytes.append(contentsOf: #"","session":"#.utf8)
        self.appendSession(issued.session, to: &bytes)
        bytes.append(contentsOf: #","set_cookie":"#.utf8)
        JSONValue.appendQuoted(setCookie, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    static func sessions(_ sessions: [StoredSession]) -> [UInt8] {
        var bytes = Array(#"{"sessions":["#.utf8)
        for (index, session) in sessions.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            self.appendSession(session, to: &bytes)
        }
        bytes.append(contentsOf: "]}".utf8)
        return bytes
    }

    static func error(_ error: SessionAPIError) -> [UInt8] {
        var bytes = Array(#"{"error":{"code":""#.utf8)
        bytes.append(contentsOf: error.codeString.utf8)
        bytes.append(contentsOf: #"","message":"#.utf8)
        JSONValue.appendQuoted(error.message, to: &bytes)
        bytes.append(contentsOf: "}}".utf8)
        return bytes
    }

    /// `{"error","error_description"}` (RFC 6749 §5.2), the error shape of `/oauth2/*`.
    static func oauthError(_ error: SessionAPIError) -> [UInt8] {
        var bytes = Array(#"{"error":""#.utf8)
        bytes.append(contentsOf: error.oauthCode.utf8)
        bytes.append(contentsOf: #"","error_description":"#.utf8)
        JSONValue.appendQuoted(error.message, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    static func response(
        _ status: HTTPResponse.Status,
        _ bytes: [UInt8],
        headers: HTTPFields = [:]
    ) -> Response {
        var fields = headers
        fields[.contentType] = self.contentType
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
