import Foundation
import Testing

@testable import SessionClient

@Suite struct SessionDecodingTests {
    static let json = #"""
        {"handle":"abcd0123","user_id":"al\"ice\u00e9\n","data":{"name":"A","nested":{"x":[1,{"}":"]"}]}},"created_at":"2026-11-29T03:46:57.123Z","last_seen_at":"2026-11-29T03:46:57.123Z","idle_expires_at":"2026-11-29T04:16:57.123Z","expires_at":"2026-11-30T03:46:57.123Z","version":12,"metadata":{"ip":"::1","user_agent":"curl/8"}}
        """#

    @Test func sessionDecodesWithoutTouchingData() throws {
        let session = try Session(json: Data(Self.json.utf8))
        #expect(session.handle == "abcd0123")
        #expect(session.userID == "al\"iceé\n")
        #expect(session.version == 12)
        #expect(session.ip == "::1")
        #expect(session.userAgent == "curl/8")
        #expect(session.expiresAt.timeIntervalSince(session.createdAt) == 86_400)
        struct Payload: Decodable { let name: String }
        #expect(try session.data(as: Payload.self).name == "A")
    }

    @Test(arguments: ["", "[]", "{", #"{"handle":"x"}"#, #"{"handle":"x","user_id":"u","created_at":"bad"}"#, #"{"a":1,}"#])
    func malformedSessionsAreInvalidResponses(text: String) {
        #expect(throws: SessionClientError.self) { try Session(json: Data(text.utf8)) }
    }
}
