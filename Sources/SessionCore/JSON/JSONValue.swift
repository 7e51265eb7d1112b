import SessionTokens
/// A JSON value that keeps numbers as their source text (no precision loss) and object members in order.
///
/// sessiond parses request bodies and session data with its own small parser so that it controls
/// depth, duplicate keys and canonical output, and never round-trips numbers through `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, as validated source text (e.g. `-1.5e3`).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order; keys are unique (the parser rejects duplicates).
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.serialized())
    }

    /// The member named `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Whether this is an object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Compact JSON text.
    public func serialized() -> String {
        var output = [UInt8]()
        self.serialize(into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends compact JSON bytes.
    public func serialize(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): output.append(contentsOf: text.utf8)
        case .string(let text): JSONValue.appendQuoted(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.serialize(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.appendQuoted(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.serialize(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a JSON string literal (escaping quotes, backslashes and control characters).
    @inline(__always)
    public static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        JSONText.appendQuoted(text, to: &output)
    }

    /// RFC 7396 JSON merge patch: returns `self` with `patch` applied.
    ///
    /// Linear in the sizes of both: members are found through a dictionary, not by comparing names
    /// pairwise, and keep their order (existing members where they were, new ones appended).
    public func mergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members: [(key: String, value: JSONValue)?] = []
        if case .object(let existing) = self {
            members.reserveCapacity(existing.count + patchMembers.count)
            for member in existing { members.append(member) }
        }
        var position = [String: Int](minimumCapacity: members.count)
        for (index, member) in members.enumerated() { position[member!.key] = index }
        var removed = false
        for (key, patchValue) in patchMembers {
            if let index = position[key] {
                if case .null = patchValue {
                    members[index] = nil
                    position[key] = nil
                    removed = true
                } else {
                    members[index]!.value = members[index]!.value.mergePatched(with: patchValue)
                }
            } else if case .null = patchValue {
                continue
            } else {
                position[key] = members.count
                members.append((key, JSONValue.null.mergePatched(with: patchValue)))
            }
        }
        return .object(removed ? members.compactMap { $0 } : members.map { $0! })
    }

    /// A lower bound of the serialized size of any merge with this value as the patch: every member
    /// of a patch that is not `null` ends up in the result, whatever it is merged into. Lets a caller
    /// refuse a patch that cannot fit before it reads or merges anything.
    public var minimumMergedSize: Int {
        guard case .object(let members) = self else { return self.serializedSize }
        var size = 2
        var count = 0
        for (key, value) in members {
            if case .null = value { continue }
            size += JSONValue.string(key).serializedSize + 1 + value.minimumMergedSize
            count += 1
        }
        return size + max(0, count - 1)
    }

    /// The length of ``serialize(into:)``'s output, without building it.
    public var serializedSize: Int {
        switch self {
        case .null: return 4
        case .bool(let value): return value ? 4 : 5
        case .number(let text): return text.utf8.count
        case .string(let text):
            var size = 2
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09: size += 2
                case 0..<0x20: size += 6
                default: size += 1
                }
            }
            return size
        case .array(let elements):
            return 2 + max(0, elements.count - 1) + elements.reduce(0) { $0 + $1.serializedSize }
        case .object(let members):
            return 2 + max(0, members.count - 1) + members.reduce(0) { $0 + JSONValue.string($1.key).serializedSize + 1 + $1.value.serializedSize }
        }
    }
}
