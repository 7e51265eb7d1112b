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

    @Test func mergePatchKeepsMemberOrder() throws {
        let merged = try self.parse(#"{"a":1,"b":2,"c":3}"#).mergePatched(with: self.parse(#"{"b":null,"d":4,"a":5,"x":null}"#))
        #expect(merged.serialized() == #"{"a":5,"c":3,"d":4}"#)
    }

    @Test func largePatchesMergeCorrectly() throws {
        // 4,000 patch members against 2,000 data members: half replace, a quarter delete, the rest add.
        let data = "{" + (0..<2000).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        let patch = "{" + (1000..<5000).map { $0 < 1500 ? #""k\#($0)":null"# : #""k\#($0)":"p""# }.joined(separator: ",") + "}"
        let merged = try self.parse(data).mergePatched(with: self.parse(patch))
        guard case .object(let members) = merged else { Issue.record("not an object"); return }
        #expect(members.count == 1000 + 500 + 3000)
        #expect(members.first?.key == "k0" && members[999].key == "k999" && members[1000].key == "k1500")
        #expect(merged["k1200"] == nil && merged["k1999"] == .string("p") && merged["k4999"] == .string("p") && merged["k7"] == .number("7"))
    }

    @Test func serializedSizeIsExact() throws {
        for text in [#"{"a":[1,2.5,-3e4],"b":{"c":null,"d":true,"e":false},"f":"x\"\\\n\u0001é"}"#, "[]", "{}", #""""#, "null"] {
            let value = try self.parse(text)
            #expect(value.serializedSize == value.serialized().utf8.count, "\(text)")
        }
    }

    /// The bound a PATCH is refused by before any merge is never above what a merge produces.
    @Test func minimumMergedSizeIsALowerBound() throws {
        let targets = [#"{}"#, #"{"a":{"b":"c","d":[1,2,3]}}"#, #"{"a":"long string value","z":1}"#, "[1]", "null"]
        let patches = [#"{"a":null}"#, #"{"a":{"b":null,"x":"y"}}"#, #"{"n":{"m":{"o":null}}}"#, #"{"a":"b","c":[{"d":null}]}"#, #""s""#]
        for target in targets {
            for patch in patches {
                let patchValue = try self.parse(patch)
                let merged = try self.parse(target).mergePatched(with: patchValue)
                #expect(patchValue.minimumMergedSize <= merged.serialized().utf8.count, "\(target) + \(patch)")
            }
        }
    }
}
