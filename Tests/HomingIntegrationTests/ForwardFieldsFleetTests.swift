import Foundation
import HomingTestSupport
import Testing

/// Dovecot's `XRCPTFORWARD`: a front sends its passdb's `forward_*` fields with each relayed
/// recipient to a destination that offers the parameter, and a destination offers it to, and
/// takes it from, trusted clients only. Compared with Debian's Dovecot 2.3.
@Suite("XRCPTFORWARD between Homing and Dovecot", .serialized, .enabled(if: TestDovecot.isInstalled, "needs dovecot-lmtpd"))
struct ForwardFieldsFleetTests {
    static let forwardPassdbArgs = "forward_foo=bar forward_Two=x=y"

    /// A Homing front whose static passdb relays every recipient to 127.0.0.1:`port` with the
    /// forward_* fields of ``forwardPassdbArgs``.
    static func homingFront(relayingTo port: Int) throws -> IntegrationFixture {
        try IntegrationFixture(
            extraSettings: "lmtp_proxy = yes",
            userdb: """
                passdb {
                  driver = static
                  args = proxy=y host=127.0.0.1 port=\(port) nopassword=y \(forwardPassdbArgs)
                }
                userdb {
                  driver = static
                  args = uid=\(geteuid() == 0 ? 5000 : geteuid()) gid=\(geteuid() == 0 ? 5000 : getegid()) home=/nonexistent/%u
                }
                """)
    }

    @Test("a Homing front and a Dovecot front, with the same forward_* passdb fields, send the destination the same RCPT line")
    func frontsSendTheSameLine() async throws {
        let destination = try RecordingLMTPServer()
        defer { destination.close() }
        let dovecot = try await runOnThread {
            try TestDovecot.start(
                .init(
                    hostname: "front.example.com",
                    passdbs: [TestDovecot.proxyPassdb(port: destination.port, extra: Self.forwardPassdbArgs)],
                    settings: [("lmtp_proxy", "yes")]))
        }
        defer { dovecot.remove() }
        let homing = try Self.homingFront(relayingTo: destination.port)
        defer { homing.dir.remove() }
        let server = try await homing.startServer()
        defer { Task { await server.stop() } }

        var rcptLines: [String] = []
        for port in [dovecot.port, homing.port] {
            let before = destination.lines.count
            let client = try await LMTPTestClient.connect(port: port)
            _ = try await client.readReply()
            _ = try await client.command("LHLO postfix.example.net")
            #expect(try await client.command("MAIL FROM:<sender@example.org>").first?.hasPrefix("250") == true)
            #expect(try await client.command("RCPT TO:<alice@example.com>").first?.hasPrefix("250") == true, "\(server.log) \(dovecot.log)")
            #expect(try await client.command("DATA").first?.hasPrefix("354") == true)
            try await client.send("Subject: forwarded\r\n\r\nhi\r\n.\r\n")
            #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(server.log)")
            _ = try await client.command("QUIT")
            rcptLines.append(destination.lines[before...].first { $0.hasPrefix("RCPT") } ?? "none")
        }
        #expect(rcptLines[0] == "RCPT TO:<alice@example.com> XRCPTFORWARD=foo+3Dbar+09Two+3Dx+3Dy", "Dovecot sent \(rcptLines[0])")
        #expect(rcptLines[1] == rcptLines[0], "Homing sent \(rcptLines[1])")
    }

    @Test("a destination that does not offer XRCPTFORWARD gets no such parameter from a Homing front")
    func notOffered() async throws {
        let destination = try RecordingLMTPServer(capabilities: ["PIPELINING", "ENHANCEDSTATUSCODES"])
        defer { destination.close() }
        let homing = try Self.homingFront(relayingTo: destination.port)
        defer { homing.dir.remove() }
        let server = try await homing.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: homing.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<alice@example.com>").first?.hasPrefix("250") == true, "\(server.log)")
        _ = try await client.command("QUIT")
        #expect(destination.lines.contains("RCPT TO:<alice@example.com>"), "\(destination.lines)")
    }

    @Test("as a destination, Homing answers XRCPTFORWARD as Dovecot does, trusted and not, RCPT for RCPT; LHLO offers it the same way")
    func destinationRepliesMatchDovecot() async throws {
        let dovecot = try await runOnThread {
            try TestDovecot.start(.init(settings: [("login_trusted_networks", "127.0.0.1")]))
        }
        defer { dovecot.remove() }
        let homing = try IntegrationFixture(extraSettings: "login_trusted_networks = 127.0.0.1")
        defer { homing.dir.remove() }
        let server = try await homing.startServer()
        defer { Task { await server.stop() } }
        // (Dovecot 2.3.19's LMTP process crashes on a bare `XRCPTFORWARD`: left out.)
        let script = [
            "XRCPTFORWARD=foo+3Dbar+09Two+3Dx+3Dy", "xrcptforward=abc", "XRCPTFORWARD=abc XRCPTFORWARD=def", "XRCPTFORWARD=+ZZ",
            "XRCPTFORWARD=a=b", "XRCPTFORWARD=+FF+FE",
        ]
        // Each parameter set in a transaction of its own: MAIL, the RCPT, RSET.
        let lines = script.flatMap { ["MAIL FROM:<sender@example.org>", "RCPT TO:<alice@example.com> " + $0, "RSET"] }
        for source in ["127.0.0.1", "127.0.0.2"] {
            let theirs = try await DovecotFleetTests.replies(to: lines, port: dovecot.port, source: source)
            let ours = try await DovecotFleetTests.replies(to: lines, port: homing.port, source: source)
            for (name, lhlo) in [("dovecot", theirs.lhlo), ("homing", ours.lhlo)] {
                #expect((lhlo.last == "250 XRCPTFORWARD") == (source == "127.0.0.1"), "\(name) \(source): \(lhlo)")
            }
            for (index, line) in lines.enumerated() {
                #expect(ours.replies[index] == theirs.replies[index], "\(source) \(line)")
            }
        }
    }

    @Test("a Dovecot front relays a recipient with forward_* fields to a Homing destination, which takes them and delivers")
    func dovecotFrontHomingDestination() async throws {
        let fleet = try await DovecotFleetTests.Fleet(proxyExtra: Self.forwardPassdbArgs)
        defer { fleet.remove() }
        let server = try await fleet.homing.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.connect(port: fleet.dovecot.port)
        _ = try await client.readReply()
        _ = try await client.command("LHLO postfix.example.net")
        _ = try await client.command("MAIL FROM:<sender@example.org>")
        #expect(try await client.command("RCPT TO:<alice@example.com>").first?.hasPrefix("250") == true, "\(fleet.dovecot.log)")
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: forwarded\r\n\r\nhi\r\n.\r\n")
        #expect(try await client.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com>") == true, "\(fleet.dovecot.log) \(server.log)")
        _ = try await client.command("QUIT")
        #expect(fleet.homing.files(fleet.homing.maildir("alice")).count == 1)
    }
}
