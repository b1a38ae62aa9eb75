import Foundation
import Testing

@testable import HomingSieve
import HomingTestSupport

@Suite("SieveMessage: header, size and body of a stored message")
struct SieveMessageTests {
    /// A unique temporary file holding `bytes`; removed by the caller.
    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "sieve-message-\(UUID().uuidString).eml"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("folded header lines are unfolded and names keep their case")
    func folding() {
        let message = SieveMessage(text: "Subject: a long\n\tsubject line\nX-Mixed-Case:  value  \nTo: a@b\n\nbody\n")
        #expect(
            message.headerFields == [
                SieveHeaderField(name: "Subject", rawValue: "a long\tsubject line"),
                SieveHeaderField(name: "X-Mixed-Case", rawValue: "value"),
                SieveHeaderField(name: "To", rawValue: "a@b"),
            ])
    }

    @Test("CRLF folding is unfolded the same way")
    func crlfFolding() throws {
        let message = SieveMessage(text: "Subject: one\r\n two\r\nFrom: x@y\r\n\r\nbody\r\n")
        #expect(message.headerFields.map(\.rawValue) == ["one two", "x@y"])
        #expect(message.bodyOffset == 33)
        #expect(try message.bodyTexts(.raw) == ["body\r\n"])
    }

    @Test("junk lines without a colon are skipped and the header goes on")
    func junkLines() {
        let message = SieveMessage(text: "From sender@example.org Mon Jan  1 00:00:00 2024\nSubject: hi\nthis is junk\nTo: a@b\n\nbody")
        #expect(message.headerFields.map(\.name) == ["Subject", "To"])
        #expect(message.headerFields.map(\.rawValue) == ["hi", "a@b"])
    }

    @Test("white space before the colon (obsolete syntax) is accepted")
    func spaceBeforeColon() {
        let message = SieveMessage(text: "Subject : old style\n\n")
        #expect(message.headerFields == [SieveHeaderField(name: "Subject", rawValue: "old style")])
    }

    @Test("a continuation line before any field is ignored, an empty value is kept")
    func leadingContinuation() throws {
        let message = SieveMessage(text: " stray\nX-Empty:\n\nbody")
        #expect(message.headerFields == [SieveHeaderField(name: "X-Empty", rawValue: "")])
        #expect(try message.bodyTexts(.raw) == ["body"])
    }

    @Test("a message without an empty line has only a header and an empty body")
    func headerOnly() throws {
        let message = SieveMessage(text: "Subject: x\nTo: y@z\n")
        #expect(message.headerFields.count == 2)
        #expect(try message.bodyTexts(.raw) == [""])
        #expect(try message.bodyTexts(.text) == [""])
    }

    @Test("size counts LF line ends as CRLF, so LF and CRLF copies have the same size")
    func sizeLFAndCRLF() {
        let lf = SieveMessage(text: "Subject: x\n\nline one\nline two\n")
        let crlf = SieveMessage(text: "Subject: x\r\n\r\nline one\r\nline two\r\n")
        #expect(lf.storedSize == 30)
        #expect(lf.size == 34)
        #expect(crlf.storedSize == 34)
        #expect(crlf.size == 34)
    }

    @Test("a message file is read: header at once, body on demand")
    func fromFile() throws {
        let path = try temporaryFile(Array("Subject: file\nTo: a@b\n\nHello\nWorld\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = try SieveMessage(path: path)
        #expect(message.headerFields.map(\.name) == ["Subject", "To"])
        #expect(message.size == 40)
        #expect(message.bodyOffset == 23)
        #expect(try message.bodyTexts(.raw) == ["Hello\nWorld\n"])
        #expect(try message.bodyTexts(.text) == ["Hello\nWorld\n"])
    }

    @Test("a missing file is an error naming the path")
    func missingFile() {
        let path = NSTemporaryDirectory() + "sieve-missing-\(UUID().uuidString)"
        #expect(throws: SieveMessageError("cannot open message file \(path): No such file or directory")) {
            try SieveMessage(path: path)
        }
    }

    @Test("a directory is refused")
    func directory() {
        #expect(throws: SieveMessageError("message file \(NSTemporaryDirectory()) is not a regular file")) {
            try SieveMessage(path: NSTemporaryDirectory())
        }
    }

    @Test("a large body is read only up to maxBodyBytes; size is still the whole message")
    func largeBodyBounded() throws {
        let header = Array("Subject: big\n\n".utf8)
        let line = Array(String(repeating: "x", count: 99).utf8) + [0x0A]
        var bytes = header
        for _ in 0..<20_000 { bytes += line }  // 2,000,000 body bytes
        let path = try temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = try SieveMessage(path: path, maxBodyBytes: 1000)
        #expect(message.storedSize == 2_000_014)
        #expect(message.size == 2_000_014 + 20_002)
        let raw = try message.bodyTexts(.raw)
        #expect(raw.count == 1)
        #expect(raw.first?.utf8.count == 1000)
        #expect(try message.bodyBytes().count == 1000)
        #expect(try message.bodyTexts(.content([""])).first?.utf8.count == 1000)
    }

    @Test("a header longer than maxHeaderSize keeps the fields within the bound and finds the body")
    func headerBounded() throws {
        var text = ""
        for number in 0..<100 { text += "X-Field-\(number): value\n" }  // 17 bytes each below 10
        text += "\nthe body\n"
        let message = SieveMessage(text: text, maxHeaderSize: 100)
        #expect(message.headerTruncated)
        #expect(message.headerFields.map(\.name) == ["X-Field-0", "X-Field-1", "X-Field-2", "X-Field-3", "X-Field-4"])
        #expect(try message.bodyTexts(.raw) == ["the body\n"])
        let small = SieveMessage(text: "A: b\n\nc")
        #expect(!small.headerTruncated)
    }

    @Test("the scanner gives the same result for any chunking")
    func scannerChunking() {
        let bytes = Array("Subject: x\r\nTo: y\r\n\r\nbody\nmore\r\n".utf8)
        var whole = SieveMessageScanner(maxHeaderSize: .max)
        whole.consume(bytes)
        var split = SieveMessageScanner(maxHeaderSize: .max)
        for byte in bytes { split.consume([byte]) }
        #expect(whole.bodyOffset == 21)
        #expect(split.bodyOffset == 21)
        #expect(whole.sizeWithCRLF == bytes.count + 1)
        #expect(split.sizeWithCRLF == bytes.count + 1)
        #expect(whole.headerBytes == split.headerBytes)
    }
}
