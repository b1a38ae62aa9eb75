import Foundation
import HomingSubmission
import HomingTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A one-connection SMTP server on 127.0.0.1 (port chosen by the system), run on its own
/// thread, answering from a table and recording the dialogue.
private final class TestSMTPServer: Sendable {
    private let lines = Locked<[String]>([])
    private let data = Locked("")
    private let listener: Int32
    let port: Int
    private let finished = DispatchSemaphore(value: 0)

    /// `reply` maps a command line (as received) to the reply to send; `nil` means the default
    /// (`250 OK`, `354` for DATA, `221` for QUIT).
    init(greeting: String = "220 test ESMTP", reply: @escaping @Sendable (String) -> String? = { _ in nil }) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) }
        }
        guard bound == 0, listen(listener, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &size) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in
            self.serve(greeting: greeting, reply: reply)
            self.finished.signal()
        }
        thread.start()
    }

    private func serve(greeting: String, reply: @Sendable (String) -> String?) {
        let client = accept(listener, nil, nil)
        close(listener)
        guard client >= 0 else { return }
        defer { close(client) }
        var buffer: [UInt8] = []
        func readLine() -> String? {
            while true {
                if let index = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[0..<index], as: UTF8.self)
                    buffer.removeFirst(index + 1)
                    return line.hasSuffix("\r") ? String(line.dropLast()) : line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(client, &chunk, chunk.count, 0)
                if count <= 0 { return nil }
                buffer += chunk[0..<count]
            }
        }
        func send(_ text: String) {
            let bytes = Array((text + "\r\n").utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        send(greeting)
        while let line = readLine() {
            lines.append(line)
            let answer = reply(line)
            if line == "DATA" {
                send(answer ?? "354 go ahead")
                if answer != nil && !(answer ?? "").hasPrefix("354") { continue }
                var text = ""
                while let dataLine = readLine(), dataLine != "." { text += dataLine + "\n" }
                data.withValue { $0 = text }
                send(reply(".") ?? "250 2.0.0 queued")
            } else if line == "QUIT" {
                send(answer ?? "221 bye")
                return
            } else {
                send(answer ?? "250 OK")
            }
        }
    }

    /// Waits for the connection to end; the dialogue's command lines.
    func dialogue() -> [String] {
        _ = finished.wait(timeout: .now() + 10)
        return lines.current
    }

    /// The DATA content as received (dot-stuffing not undone), lines joined with LF.
    var receivedData: String { data.current }
}

private let message = OutgoingMessage(prefix: Array("Subject: hi\n\n.leading dot\nline\r\n..two\n".utf8))

@Suite("SMTP submitter")
struct SMTPSubmitterTests {
    @Test("submission_host values are split into host and port")
    func parse() throws {
        #expect(try SMTPSubmitter.parse("mail.example.com") == ("mail.example.com", 25))
        #expect(try SMTPSubmitter.parse(" relay:2525 ") == ("relay", 2525))
        #expect(try SMTPSubmitter.parse("[::1]:587") == ("::1", 587))
        #expect(try SMTPSubmitter.parse("[::1]") == ("::1", 25))
        #expect(throws: SubmissionError(temporary: false, "invalid submission_host 'relay:0': the port must be a number from 1 to 65535")) {
            try SMTPSubmitter.parse("relay:0")
        }
        #expect(throws: SubmissionError(temporary: false, "invalid submission_host 'relay:x': the port must be a number from 1 to 65535")) {
            try SMTPSubmitter.parse("relay:x")
        }
        #expect(throws: SubmissionError(temporary: false, "invalid submission_host '::1:25': an IPv6 address must be written in brackets: [address]:port")) {
            try SMTPSubmitter.parse("::1:25")
        }
        #expect(throws: SubmissionError(temporary: false, "invalid submission_host ':25': no host")) {
            try SMTPSubmitter.parse(":25")
        }
    }

    @Test("the dialogue is EHLO, MAIL FROM:<>, RCPT TO each, DATA with CRLF and dot-stuffing, QUIT")
    func dialogue() throws {
        let server = try TestSMTPServer { line in line.hasPrefix("EHLO") ? "250-test\r\n250-8BITMIME\r\n250 SIZE 1000" : nil }
        try SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "mx.example.com", timeout: .seconds(5))
            .submit(message, from: "", to: ["a@example.org", "b@example.org"])
        #expect(
            server.dialogue() == [
                "EHLO mx.example.com", "MAIL FROM:<> BODY=8BITMIME", "RCPT TO:<a@example.org>", "RCPT TO:<b@example.org>", "DATA",
                "QUIT",
            ])
        #expect(server.receivedData == "Subject: hi\n\n..leading dot\nline\n...two\n")
    }

    @Test("a refused EHLO falls back to HELO")
    func heloFallback() throws {
        let server = try TestSMTPServer { line in line.hasPrefix("EHLO") ? "502 5.5.2 what?" : nil }
        try SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "h", timeout: .seconds(5))
            .submit(message, from: "s@x", to: ["r@x"])
        #expect(server.dialogue() == ["EHLO h", "HELO h", "MAIL FROM:<s@x>", "RCPT TO:<r@x>", "DATA", "QUIT"])
    }

    @Test("a 4xx reply is a temporary failure with the server's reply")
    func temporary() throws {
        let server = try TestSMTPServer { line in line.hasPrefix("RCPT") ? "451 4.3.0 try later" : nil }
        let submitter = SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "h", timeout: .seconds(5))
        #expect(
            throws: SubmissionError(
                temporary: true, "SMTP server 127.0.0.1:\(server.port) refused RCPT TO:<r@x>: 451 4.3.0 try later")
        ) {
            try submitter.submit(message, from: "s@x", to: ["r@x"])
        }
        #expect(server.dialogue() == ["EHLO h", "MAIL FROM:<s@x>", "RCPT TO:<r@x>", "QUIT"])
    }

    @Test("a 5xx reply to the message is a permanent failure")
    func permanent() throws {
        let server = try TestSMTPServer { line in line == "." ? "554-5.7.1 rejected\r\n554 5.7.1 spam" : nil }
        let submitter = SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "h", timeout: .seconds(5))
        #expect(
            throws: SubmissionError(
                temporary: false,
                "SMTP server 127.0.0.1:\(server.port) refused the message: 554 5.7.1 rejected / 554 5.7.1 spam")
        ) {
            try submitter.submit(message, from: "s@x", to: ["r@x"])
        }
    }

    @Test("a 5xx greeting is a permanent failure")
    func greeting() throws {
        let server = try TestSMTPServer(greeting: "554 no service")
        let submitter = SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "h", timeout: .seconds(5))
        #expect(
            throws: SubmissionError(temporary: false, "SMTP server 127.0.0.1:\(server.port) refused the connection: 554 no service")
        ) {
            try submitter.submit(message, from: "s@x", to: ["r@x"])
        }
    }

    @Test("a refused connection is a temporary failure")
    func refused() throws {
        // Bind a port, then close it: nothing listens there.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, size) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &size) } }
        close(probe)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let submitter = SMTPSubmitter(host: "127.0.0.1", port: port, heloName: "h", timeout: .seconds(5))
        #expect(throws: SubmissionError(temporary: true, "cannot connect to SMTP server 127.0.0.1:\(port): Connection refused")) {
            try submitter.submit(message, from: "s@x", to: ["r@x"])
        }
    }

    @Test("a server that does not answer times out")
    func silentServer() throws {
        let server = try TestSMTPServer { line in
            if line.hasPrefix("MAIL") { Thread.sleep(forTimeInterval: 2) }
            return nil
        }
        let submitter = SMTPSubmitter(host: "127.0.0.1", port: server.port, heloName: "h", timeout: .milliseconds(300))
        #expect(
            throws: SubmissionError(temporary: true, "SMTP server 127.0.0.1:\(server.port): timed out waiting for a reply")
        ) {
            try submitter.submit(message, from: "s@x", to: ["r@x"])
        }
        _ = server.dialogue()
    }

    @Test("multi-line replies are assembled; malformed lines are errors")
    func replyParser() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed("250-first") == nil)
        #expect(try parser.feed("250 last") == SMTPReply(code: 250, lines: ["first", "last"]))
        #expect(try parser.feed("220") == SMTPReply(code: 220, lines: [""]))
        #expect(throws: SubmissionError(temporary: true, "the SMTP server sent a malformed reply line: hello")) {
            try parser.feed("hello")
        }
    }
}
