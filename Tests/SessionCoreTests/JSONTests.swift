import Testing

@testable import SessionCore

@Suite struct JSONTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func compactSerializationPreservesOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,false,null,"x\"\n\u0001"],"n":12345678901234567890.5e-3}"#
        #expect(try self.parse(text).serialized() == #"{"b":1,"a":[true,false,null,"x\"\n\u0001"],"n":12345678901234567890.5e-3}"#)
    }

    @Test func whitespaceAndEscapesAreNormalized() throws {
        #expect(try self.parse(" { \"a\" : \"\\u00e9\\/\" } ").serialized() == "{\"a\":\"é/\"}")
        #expect(try self.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"\u{01}\"", "{\"a\":1}x", "'a'", "{a:1}",
        "\"\\ud800\"", "\"\\x\"", "NaN", "{\"a\":1,\"a\":2}",
    ])
    func malformedJSONIsRejected(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test(arguments: [
        ("plain", #""plain""#),
        ("", #""""#),
        ("ünï 😀", "\"ünï 😀\""),
        ("a\"b\\c", #""a\"b\\c""#),
        ("line\nbreak\ttab\u{01}", #""line\nbreak\ttab\u0001""#),
    ])
    func quotingEscapesOnlyWhatJSONRequires(text: String, expected: String) {
        var output: [UInt8] = []
        JSONValue.appendQuoted(text, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == expected)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([34, 0xFF, 34]) }
    }

    @Test func depthLimitIs32() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(try JSONParser.parse(Array(ok.utf8)) != .null)
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        do {
            _ = try JSONParser.parse(Array(deep.utf8))
            Issue.record("33 levels accepted")
        } catch {
            #expect(error.isTooDeep)
        }
        // A very deep input fails fast instead of overflowing the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(hostile.utf8)) }
    }

    /// The examples of RFC 7396 §3.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatchFollowsRFC7396(target: String, patch: String, result: String) throws {
        #expect(try self.parse(target).mergePatched(with: self.parse(patch)).serialized() == result)
    }
}
