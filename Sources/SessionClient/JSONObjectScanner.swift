/// A minimal reader for the top level of a JSON object: each member's key and the byte range of its
/// value. Nested values are skipped, not parsed, so decoding a session touches `data` only when the
/// caller asks for it (`Session.data(as:)`). Foundation's `JSONDecoder` was the largest cost of a
/// resolve in the client before this.
struct JSONObjectScanner {
    struct Malformed: Error {}

    let bytes: [UInt8]

    /// The members of the object spanning `bytes[range]`.
    func members(in range: Range<Int>? = nil) throws(Malformed) -> [(key: String, value: Range<Int>)] {
        var index = self.skipWhitespace(range?.lowerBound ?? 0)
        let end = range?.upperBound ?? self.bytes.count
        guard index < end, self.bytes[index] == UInt8(ascii: "{") else { throw Malformed() }
        index = self.skipWhitespace(index + 1)
        var members: [(key: String, value: Range<Int>)] = []
        if index < end, self.bytes[index] == UInt8(ascii: "}") { return members }
        while index < end {
            guard self.bytes[index] == UInt8(ascii: "\"") else { throw Malformed() }
            let keyEnd = try self.skipString(index)
            let key = try self.string(index..<keyEnd)
            index = self.skipWhitespace(keyEnd)
            guard index < end, self.bytes[index] == UInt8(ascii: ":") else { throw Malformed() }
            index = self.skipWhitespace(index + 1)
            let valueEnd = try self.skipValue(index)
            members.append((key, index..<valueEnd))
            index = self.skipWhitespace(valueEnd)
            guard index < end else { throw Malformed() }
            if self.bytes[index] == UInt8(ascii: ",") {
                index = self.skipWhitespace(index + 1)
            } else if self.bytes[index] == UInt8(ascii: "}") {
                return members
            } else {
                throw Malformed()
            }
        }
        throw Malformed()
    }

    /// The text of the JSON string literal at `range` (quotes included), escapes resolved.
    func string(_ range: Range<Int>) throws(Malformed) -> String {
        guard range.count >= 2, self.bytes[range.lowerBound] == 34, self.bytes[range.upperBound - 1] == 34 else { throw Malformed() }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !self.bytes[inner].contains(92) {
            return String(decoding: self.bytes[inner], as: UTF8.self)
        }
        var output: [UInt8] = []
        var index = inner.lowerBound
        while index < inner.upperBound {
            let byte = self.bytes[index]
            guard byte == 92 else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < inner.upperBound else { throw Malformed() }
            let escape = self.bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): output.append(10)
            case UInt8(ascii: "r"): output.append(13)
            case UInt8(ascii: "t"): output.append(9)
            case UInt8(ascii: "b"): output.append(8)
            case UInt8(ascii: "f"): output.append(12)
            case UInt8(ascii: "u"):
                var scalar = try self.hex4(at: index, limit: inner.upperBound)
                index += 4
                // A high surrogate combines only with an escaped low surrogate right after it;
                // anything else leaves it unpaired (U+FFFD), never an arithmetic trap.
                if (0xD800...0xDBFF).contains(scalar), index + 6 <= inner.upperBound, self.bytes[index] == 92,
                    self.bytes[index + 1] == UInt8(ascii: "u"), let low = try? self.hex4(at: index + 2, limit: inner.upperBound),
                    (0xDC00...0xDFFF).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                output.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: output.append(escape)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The raw text of the value at `range` (numbers, literals).
    func text(_ range: Range<Int>) -> String {
        String(decoding: self.bytes[range], as: UTF8.self)
    }

    /// Exactly four hex digits (no sign, no spaces).
    private func hex4(at index: Int, limit: Int) throws(Malformed) -> UInt32 {
        guard index >= 0, index + 4 <= limit else { throw Malformed() }
        var value: UInt32 = 0
        for byte in self.bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 65...70: digit = byte - 55
            case 97...102: digit = byte - 87
            default: throw Malformed()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private func skipWhitespace(_ start: Int) -> Int {
        var index = start
        while index < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[index]) { index += 1 }
        return index
    }

    /// The index just past the string literal starting at `start`.
    private func skipString(_ start: Int) throws(Malformed) -> Int {
        var index = start + 1
        while index < self.bytes.count {
            switch self.bytes[index] {
            case 92: index += 2
            case 34: return index + 1
            default: index += 1
            }
        }
        throw Malformed()
    }

    /// The index just past the value starting at `start`.
    private func skipValue(_ start: Int) throws(Malformed) -> Int {
        guard start < self.bytes.count else { throw Malformed() }
        switch self.bytes[start] {
        case 34:
            return try self.skipString(start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < self.bytes.count {
                switch self.bytes[index] {
                case 34:
                    index = try self.skipString(index)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            throw Malformed()
        default:
            var index = start
            while index < self.bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(self.bytes[index]) {
                index += 1
            }
            guard index > start else { throw Malformed() }
            return index
        }
    }
}
