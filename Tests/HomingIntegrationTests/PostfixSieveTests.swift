import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Sieve's outgoing mail through a real Postfix over SMTP (`submission_host`). The mail comes
/// back to a local user through Homing, so the whole loop is real.
///
/// (`sendmail_path` runs Postfix's `sendmail` as the user, as Dovecot does; an unprivileged
/// `sendmail -C <private config>` is refused by Postfix unless the system's own main.cf lists
/// that directory, and the tests never touch /etc/postfix. How Homing runs `sendmail_path` is
/// covered with a recording stand-in in SieveIntegrationTests.)
@Suite("Postfix in front: Sieve redirect and vacation", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct PostfixSieveTests {
    @Test("bob's redirect and alice's vacation reach carol through Postfix (submission_host)")
    func redirectAndVacationThroughPostfix() async throws {
        let setup = try await PostfixFixture.start(
            homingSettings: """
                submission_host = 127.0.0.1:@POSTFIX_SMTP_PORT@
                protocol lmtp {
                  mail_plugins = sieve
                }
                plugin {
                  sieve = file:~/sieve;active=~/.dovecot.sieve
                }
                """
        ) { fixture in
            let scripts = [
                "alice": #"require "vacation"; vacation :days 1 :subject "Away" "Alice is away.";"#,
                "bob": #"redirect "carol@example.org";"#,
            ]
            for (user, script) in scripts {
                let home = fixture.mailRoot + "/example.com/" + user
                try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
                try script.write(toFile: home + "/.dovecot.sieve", atomically: false, encoding: .utf8)
                for path in [fixture.mailRoot + "/example.com", home, home + "/.dovecot.sieve"] {
                    chown(path, fixture.uid, fixture.gid)
                }
            }
        }
        try await setup.run {
            let sent = try await setup.postfix.send(
                from: "carol@example.org", to: ["alice@example.com", "bob@example.com"],
                message: "From: carol@example.org\r\nTo: alice@example.com, bob@example.com\r\nMessage-ID: <loop1@example.org>\r\nSubject: plans\r\n\r\nLunch?\r\n")
            #expect(sent.recipientReplies == ["250 2.1.5 Ok", "250 2.1.5 Ok"])
            let carol = setup.homing.maildir("carol", domain: "example.org")
            let deadline = Date().addingTimeInterval(60)
            while setup.homing.files(carol).count < 2 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let names = setup.homing.files(carol)
            try #require(names.count == 2, "\(setup.logs)")
            let texts = try names.map { try String(contentsOfFile: carol + "/new/" + $0, encoding: .utf8) }
            let redirected = try #require(texts.first { $0.contains("X-Sieve-Redirected-From: bob@example.com") }, "\(texts)")
            // The envelope sender is kept, the original message follows.
            #expect(redirected.hasPrefix("Return-Path: <carol@example.org>\n"), "\(redirected)")
            #expect(redirected.contains("\nSubject: plans\n"))
            #expect(redirected.hasSuffix("\n\nLunch?\n"))
            let reply = try #require(texts.first { $0.contains("Auto-Submitted: auto-replied (vacation)") }, "\(texts)")
            #expect(reply.hasPrefix("Return-Path: <>\n"), "\(reply)")
            #expect(reply.contains("\nSubject: Away\n"))
            #expect(reply.contains("\nIn-Reply-To: <loop1@example.org>\n"))
            #expect(reply.contains("Alice is away."))
            // Both alice and bob got nothing stored by their scripts except alice's keep.
            #expect(setup.homing.files(setup.homing.maildir("alice")).count == 1)
            #expect(setup.homing.files(setup.homing.maildir("bob")).isEmpty)
        }
    }
}
