#if canImport(Glibc)
    import Glibc
#endif

/// Submits mail to `submission_host` over SMTP (RFC 5321), a small blocking client: EHLO
/// (HELO when EHLO is refused), MAIL FROM, RCPT TO for each recipient, DATA with CRLF line ends
/// and dot-stuffing, QUIT. No TLS or authentication (use a local relay, as `submission_host`
/// usually is). A 4xx reply or a network failure is temporary, a 5xx reply permanent; the
/// error carries the server's reply. Every read and write is bounded by `timeout`.
public struct SMTPSubmitter: MailSubmitter {
    /// The server's host name or address.
    public let host: String
    /// The server's port.
    public let port: Int
    /// The name given in EHLO/HELO.
    public let heloName: String
    /// The bound on connecting and on each read and write.
    public let timeout: Duration

    /// Creates a submitter.
    public init(host: String, port: Int = 25, heloName: String, timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.timeout = timeout
    }

    /// Splits a `submission_host` value: `host`, `host:port`, `[ipv6]` or `[ipv6]:port`
    /// (port 25 when absent). Throws a permanent error naming the problem.
    public static func parse(_ setting: String) throws(SubmissionError) -> (host: String, port: Int) {
        let value = setting.trimmingCharacters(in: " \t")
        func bad(_ why: String) -> SubmissionError {
            SubmissionError(temporary: false, "invalid submission_host '\(setting)': \(why)")
        }
        var host: Substring
        var portText: Substring?
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { throw bad("missing ']'") }
            host = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad("unexpected text after ']'") }
                portText = rest.dropFirst()
            }
        } else if let colon = value.lastIndex(of: ":") {
            if value[..<colon].contains(":") { throw bad("an IPv6 address must be written in brackets: [address]:port") }
            host = value[..<colon]
            portText = value[value.index(after: colon)...]
        } else {
            host = Substring(value)
        }
        if host.isEmpty { throw bad("no host") }
        var port = 25
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw bad("the port must be a number from 1 to 65535")
            }
            port = number
        }
        return (String(host), port)
    }

    /// Creates a submitter for a `submission_host` value.
    public init(setting: String, heloName: String, timeout: Duration = .seconds(30)) throws(SubmissionError) {
        let (host, port) = try Self.parse(setting)
        self.init(host: host, port: port, heloName: heloName, timeout: timeout)
    }

    /// Sends `message`. See the type's documentation.
    public func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String])
        throws(SubmissionError)
    {
        if recipients.isEmpty { throw SubmissionError(temporary: false, "no recipients to send to") }
        for address in [sender] + recipients where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw SubmissionError(temporary: false, "invalid address '\(address)' for SMTP")
        }
        if heloName.isEmpty || heloName.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) {
            throw SubmissionError(temporary: false, "invalid HELO name '\(heloName)' for SMTP")
        }
        var reader = try OutgoingMessageReader(message)
        var connection = try SMTPConnection(host: host, port: port, timeout: timeout)
        var refusedByServer = false
        do {
            try transact(&connection, reader: &reader, from: sender, to: recipients, refused: &refusedByServer)
        } catch {
            // Say goodbye politely when the server refused something; the error is what counts.
            if refusedByServer {
                try? connection.send("QUIT")
                _ = try? connection.readReply()
            }
            throw error
        }
    }

    private func transact(
        _ connection: inout SMTPConnection, reader: inout OutgoingMessageReader, from sender: String, to recipients: [String],
        refused: inout Bool
    ) throws(SubmissionError) {
        let server = "SMTP server \(host):\(port)"

        func expect(_ reply: SMTPReply, _ step: String, _ positive: (Int) -> Bool = { (200..<300).contains($0) })
            throws(SubmissionError)
        {
            guard positive(reply.code) else {
                refused = true
                throw SubmissionError(temporary: reply.code < 500, "\(server) refused \(step): \(reply)")
            }
        }

        try expect(try connection.readReply(), "the connection", { $0 == 220 })
        try connection.send("EHLO \(heloName)")
        var extensions: Set<String> = []
        let ehlo = try connection.readReply()
        if ehlo.isPositive {
            for line in ehlo.lines.dropFirst() {
                extensions.insert(line.split(separator: " ").first.map { $0.uppercased() } ?? "")
            }
        } else {
            try connection.send("HELO \(heloName)")
            try expect(try connection.readReply(), "HELO \(heloName)")
        }
        var mailParameters = ""
        if extensions.contains("8BITMIME") { mailParameters += " BODY=8BITMIME" }
        let needsUTF8 = ([sender] + recipients).contains { $0.utf8.contains { $0 >= 0x80 } }
        if needsUTF8 && extensions.contains("SMTPUTF8") { mailParameters += " SMTPUTF8" }
        let mailFrom = "MAIL FROM:<\(sender)>"
        try connection.send(mailFrom + mailParameters)
        try expect(try connection.readReply(), mailFrom)
        for recipient in recipients {
            let rcpt = "RCPT TO:<\(recipient)>"
            try connection.send(rcpt)
            try expect(try connection.readReply(), rcpt)
        }
        try connection.send("DATA")
        try expect(try connection.readReply(), "DATA", { $0 == 354 })
        var encoder = SubmissionLineEncoder(mode: .smtp)
        while let chunk = try reader.next() {
            try connection.write(encoder.encode(chunk))
        }
        try connection.write(encoder.finish())
        try expect(try connection.readReply(), "the message")
        try? connection.send("QUIT")
        _ = try? connection.readReply()
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
