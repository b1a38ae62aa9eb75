import Testing

@testable import HomingDelivery

@Suite("Header scanning for log lines")
struct HeaderScannerTests {
    @Test("Message-ID, Subject and From are found, folded lines unfolded")
    func findsHeaders() {
        var scanner = HeaderScanner()
        scanner.feed(Array("Message-ID: <abc@example.org>\nSubject: hello\n\tworld\nFrom: A <a@b>\n\nbody\nSubject: no\n".utf8))
        scanner.finish()
        #expect(scanner.messageID == "<abc@example.org>")
        #expect(scanner.values["subject"] == "hello world")
        #expect(scanner.values["from"] == "A <a@b>")
    }

    @Test("headers in the body are not read, and the first occurrence wins")
    func stopsAtBody() {
        var scanner = HeaderScanner()
        for byte in Array("Subject: one\nsubject: two\n\nMessage-ID: <body>\n".utf8) { scanner.feed([byte]) }
        scanner.finish()
        #expect(scanner.values["subject"] == "one")
        #expect(scanner.messageID == nil)
    }

    @Test("a message without a header section gives nothing")
    func noHeaders() {
        var scanner = HeaderScanner()
        scanner.feed(Array("\nMessage-ID: <x>\n".utf8))
        scanner.finish()
        #expect(scanner.values.isEmpty)
    }

    @Test("scanning stops at the limit")
    func limit() {
        var scanner = HeaderScanner(limit: 20)
        scanner.feed(Array("X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nMessage-ID: <x>\n\n".utf8))
        scanner.finish()
        #expect(scanner.messageID == nil)
    }
}
