import NIOCore
import Testing

@testable import SessionClient

@Suite struct ResolveResponseParserTests {
    /// Feeds `text` in pieces of `step` bytes; the response, or the error.
    func parse(_ text: String, step: Int = .max) throws(ResolveResponseParser.Malformed) -> ResolveResponseParser.Response? {
        var parser = ResolveResponseParser()
        let bytes = Array(text.utf8)
        var offset = 0
        var result: ResolveResponseParser.Response? = nil
        while offset < bytes.count {
            let piece = bytes[offset..<min(bytes.count, offset + step)]
            offset += piece.count
            var buffer = ByteBuffer(bytes: piece)
            if let response = try parser.feed(&buffer) {
                #expect(offset == bytes.count, "complete before all bytes were fed")
                result = response
            }
        }
        return result
    }

    @Test(arguments: [1, 3, 7, 1000])
    func contentLengthBodiesInAnyPieces(step: Int) throws {
        let response = try #require(try self.parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nETag: \"1\"\r\n\r\n{\"a\":\"bcd\"}", step: step))
        #expect(response.status == 200)
        #expect(String(buffer: response.body) == #"{"a":"bcd"}"#)
        #expect(response.keepAlive)
    }

    @Test(arguments: [1, 4, 1000])
    func chunkedBodiesWithExtensionsAndTrailers(step: Int) throws {
        let text = "HTTP/1.1 404 Not Found\r\ntransfer-encoding: Chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n"
        let response = try #require(try self.parse(text, step: step))
        #expect(response.status == 404)
        #expect(String(buffer: response.body) == "hello, world!!!")
    }

    @Test func interimResponsesAreSkipped() throws {
        let response = try #require(try self.parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
        #expect(response.status == 204)
        #expect(response.body.readableBytes == 0)
    }

    @Test func connectionOptionsDecideKeepAlive() throws {
        #expect(try self.parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")?.keepAlive == false)
        #expect(try self.parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")?.keepAlive == false)
        #expect(try self.parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")?.keepAlive == true)
    }

    @Test func incompleteResponsesWaitForMore() throws {
        #expect(try self.parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345") == nil)
        #expect(try self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel") == nil)
        #expect(try self.parse("HTTP/1.1 200 OK\r\nContent-Le") == nil)
    }

    @Test(arguments: [
        "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTX/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\nbody until close",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
    ])
    func malformedResponsesAreRejected(text: String) {
        #expect(throws: ResolveResponseParser.Malformed.self) { try self.parse(text) }
    }

    @Test func oversizedHeadersAreRejected() {
        let text = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
        #expect(throws: ResolveResponseParser.Malformed.self) { try self.parse(text) }
    }
}
