/// Text from sessions (user ids, user agents, IPs) is chosen by whoever signed in: shown raw in a
/// terminal, an escape sequence in a user agent could recolour, retitle, hide lines or worse.
/// The table output shows every control character, escape sequence and bidirectional override as a
/// visible escape (`\x1b`, `\u{202E}`); a backslash is doubled so escapes stay unambiguous. JSON
/// output (`--json`) stays exact: it is for programs, and JSON escapes control characters itself.
enum TerminalText {
    static func escaped(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C:
                output += "\\\\"
            case 0x00..<0x20, 0x7F..<0xA0:
                let hex = String(scalar.value, radix: 16)
                output += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF, 0xFFF9...0xFFFB:
                // Zero-width, line/paragraph separators, bidi embeddings, overrides and isolates.
                output += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
