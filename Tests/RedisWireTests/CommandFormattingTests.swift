import NIOCore
import Testing

@testable import RedisWire

@Suite struct CommandFormattingTests {
    @Test func commandIsFormattedAsRESPArray() {
        let command = RedisCommand("SET", "key", "value")
        #expect(String(buffer: command.encoded) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        #expect(command.name == "SET")
    }

    @Test func binaryAndEmptyArgumentsAreLengthPrefixed() {
        let command = RedisCommand("SET", RedisArgument(bytes: [0, 13, 10]), RedisArgument(bytes: []))
        var expected = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$3\r\n")
        expected.writeBytes([0, 13, 10])
        expected.writeString("\r\n$0\r\n\r\n")
        #expect(command.encoded == expected)
    }

    @Test func integerArgumentsAreDecimal() {
        #expect(String(buffer: RedisCommand("PEXPIRE", "k", RedisArgument(-15)).encoded).hasSuffix("$3\r\n-15\r\n"))
    }
}
