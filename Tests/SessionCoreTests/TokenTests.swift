import SessionTokens
import Testing

@testable import SessionCore

@Suite struct TokenTests {
    @Test func tokensAreLongRandomAndURLSafe() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let token = SessionToken.generate(for: "alice")
            #expect(token.value.utf8.count == SessionToken.length)
            #expect(Base64URL.isAlphabet(Substring(token.value).utf8))
            seen.insert(token.value)
        }
        #expect(seen.count == 1000)
        // 43 base64 characters after the 4-character tag carry 256 bits.
        #expect(SessionToken.length - SlotTag.length == 43)
    }

    @Test func tokensOfOneUserShareTheSlotTag() {
        let a = SessionToken.generate(for: "alice")
        let b = SessionToken.generate(for: "alice")
        #expect(a.slotTag == b.slotTag)
        #expect(a.slotTag == SlotTag(userID: "alice"))
        #expect(a.handle.slotTag == a.slotTag)
    }

    @Test(arguments: ["", "short", String(repeating: "a", count: 46), String(repeating: "a", count: 48), String(repeating: "a", count: 46) + "=", String(repeating: "a", count: 46) + "/"])
    func textNotShapedLikeATokenIsRefused(text: String) {
        #expect(SessionToken(parsing: text) == nil)
    }

    @Test func handleIsNotAToken() {
        let token = SessionToken.generate(for: "alice")
        #expect(SessionToken(parsing: token.handle.value) == nil)
        #expect(!token.handle.value.contains(String(token.value.dropFirst(SlotTag.length).prefix(8))))
        #expect(SessionHandle(parsing: token.handle.value) == token.handle)
    }

    @Test func descriptionNeverRevealsTheToken() {
        let token = SessionToken.generate(for: "alice")
        #expect(!"\(token)".contains(token.value))
        #expect(!String(reflecting: token).contains(token.value))
        var dumped = ""
        dump(token, to: &dumped)
        #expect(!dumped.contains(token.value))
        #expect(!"\([token])".contains(token.value))
    }

    @Test func keysContainNoTokenAndShareAHashTag() {
        let layout = KeyLayout(prefix: "sessiond:")
        let token = SessionToken.generate(for: "alice")
        let sessionKey = layout.sessionKey(token.handle)
        let indexKey = layout.userIndexKey(userID: "alice")
        #expect(!sessionKey.contains(token.value))
        #expect(!sessionKey.contains(token.value.dropFirst(SlotTag.length).prefix(10)))
        #expect(!indexKey.contains("alice"))
        #expect(sessionKey.hasPrefix("sessiond:{\(token.slotTag.value)}:s:"))
        #expect(indexKey.hasPrefix("sessiond:{\(token.slotTag.value)}:u:"))
    }

    @Test func timestampsAreRFC3339UTC() {
        #expect(Timestamp.rfc3339(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(milliseconds: 951_782_400_001) == "2000-02-29T00:00:00.001Z")
        #expect(Timestamp.rfc3339(milliseconds: 1_796_008_017_123) == "2026-11-30T03:06:57.123Z")
        #expect(Timestamp.rfc3339(milliseconds: 4_102_444_799_999) == "2099-12-31T23:59:59.999Z")
    }
}
