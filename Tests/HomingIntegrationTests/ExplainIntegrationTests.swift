import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `homing explain` run as a process on a real configuration (passwd-file userdb, quota and
/// Sieve on): each case's text and `--format json` output, its exit status, and that nothing is
/// stored or created.
@Suite("homing explain end to end", .serialized, .timeLimit(.minutes(3)))
struct ExplainIntegrationTests {
    /// The fixture with quota and Sieve on; alice's script files subject "work" into Work.
    static func fixture() throws -> IntegrationFixture {
        let fixture = try IntegrationFixture(extraSettings: """
            mail_plugins = quota sieve
            plugin {
              quota = maildir:User quota
              sieve = file:~/sieve;active=~/.dovecot.sieve
            }
            """)
        let home = fixture.mailRoot + "/example.com/alice"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        for sub in ["cur", "new", "tmp", ".Work/cur", ".Work/new", ".Work/tmp"] {
            try FileManager.default.createDirectory(atPath: home + "/Maildir/" + sub, withIntermediateDirectories: true)
        }
        try #"require "fileinto"; if header :is "subject" "work" { fileinto "Work"; }"#.write(
            toFile: home + "/.dovecot.sieve", atomically: false, encoding: .utf8)
        try TestProcess.chownRecursively(fixture.mailRoot, uid: fixture.uid, gid: fixture.gid)
        return fixture
    }

    /// `homing explain -c CONFIG ARGS...`.
    static func explain(_ fixture: IntegrationFixture, _ arguments: [String]) async throws -> HomingBinary.Result {
        try await HomingBinary.run(["explain", "-c", fixture.configPath] + arguments)
    }

    /// The JSON output as a dictionary, and its steps by name.
    static func json(_ result: HomingBinary.Result) throws -> (top: [String: Any], steps: [String: [String: Any]]) {
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        let top = try #require(object as? [String: Any], "\(result.standardOutput)")
        var steps: [String: [String: Any]] = [:]
        for step in (top["steps"] as? [[String: Any]]) ?? [] {
            if let name = step["step"] as? String { steps[name] = step }
        }
        return (top, steps)
    }

    @Test("a normal user: the userdb block, uid/gid, paths, quota and the reply, in text and JSON; nothing is written")
    func normalUser() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let text = try await Self.explain(fixture, ["carol@example.org"])
        #expect(text.status == 0, "\(text.standardError)")
        let output = text.standardOutput
        #expect(output.hasPrefix("Delivery of a "), "\(output)")
        #expect(output.contains("\nuserdb: found carol@example.org\n"), "\(output)")
        #expect(output.contains("  userdb 1 (passwd-file): found carol@example.org  [\(fixture.configPath):"), "\(output)")
        #expect(output.contains("  uid: \(fixture.uid)  [userdb]\n"), "\(output)")
        #expect(output.contains("\nstorage: maildir \(fixture.mailRoot)/example.org/carol/Maildir\n"), "\(output)")
        #expect(output.contains("\nquota: "), "\(output)")
        #expect(output.contains("\nLMTP: RCPT TO:<carol@example.org> -> 250 2.1.5 OK\n"), "\(output)")
        #expect(output.contains("\nLMTP: after the message -> 250 2.0.0 <carol@example.org> <session id> Saved\n"), "\(output)")
        #expect(output.hasSuffix("outcome: delivered\n"))
        let json = try await Self.explain(fixture, ["--format", "json", "carol@example.org"])
        #expect(json.status == 0)
        let (top, steps) = try Self.json(json)
        #expect(top["outcome"] as? String == "delivered")
        #expect(top["rcptReply"] as? String == "250 2.1.5 OK")
        #expect(top["address"] as? String == "carol@example.org")
        #expect(Set(steps.keys).isSuperset(of: ["normalisation", "userdb", "user", "storage", "quota", "sieve", "result"]), "\(steps.keys)")
        // Explaining stores and creates nothing.
        #expect(!FileManager.default.fileExists(atPath: fixture.mailRoot + "/example.org"))
    }

    @Test("an unknown user: 550 5.1.1 at RCPT, exit status 67, the userdb step says no block knows the user")
    func unknownUser() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let text = try await Self.explain(fixture, ["nosuch@example.com"])
        #expect(text.status == 67)
        #expect(text.standardOutput.contains("\nuserdb: no userdb knows the user\n"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("LMTP: RCPT TO:<nosuch@example.com> -> 550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com\n"))
        #expect(!text.standardOutput.contains("after the message"))
        #expect(text.standardOutput.hasSuffix("outcome: refused\n"))
        let json = try await Self.explain(fixture, ["--format", "json", "nosuch@example.com"])
        #expect(json.status == 67)
        let (top, steps) = try Self.json(json)
        #expect(top["outcome"] as? String == "refused")
        #expect(top["dataReply"] == nil)
        #expect(steps["userdb"]?["result"] as? String == "no userdb knows the user")
    }

    @Test("a userdb outage (PostgreSQL not answering): 451 4.3.0, exit status 75, the driver's reason shown")
    func userdbOutage() async throws {
        // A port nothing listens on: PostgreSQL is down.
        let closedPort = freeLoopbackPort()
        let fixture = try IntegrationFixture(userdb: "userdb {\n  driver = sql\n  args = @SQL@\n}")
        defer { fixture.dir.remove() }
        let sql = try fixture.dir.write(
            "dovecot-sql.conf.ext",
            """
            driver = pgsql
            connect = host=127.0.0.1 port=\(closedPort) dbname=mail user=mail
            user_query = SELECT home, uid, gid FROM users WHERE userid = '%u'

            """)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "@SQL@", with: sql).write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let text = try await Self.explain(fixture, ["alice@example.com"])
        #expect(text.status == 75, "\(text.standardOutput)\(text.standardError)")
        #expect(text.standardOutput.contains("\nuserdb: temporary failure: cannot connect to PostgreSQL"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("userdb 1 (sql): could not answer: "), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("LMTP: RCPT TO:<alice@example.com> -> 451 4.3.0 <alice@example.com> Temporary internal error\n"), "\(text.standardOutput)")
        #expect(text.standardOutput.hasSuffix("outcome: deferred\n"))
        let json = try await Self.explain(fixture, ["--format", "json", "alice@example.com"])
        #expect(json.status == 75)
        let (top, _) = try Self.json(json)
        #expect(top["outcome"] as? String == "deferred")
        #expect(top["rcptReply"] as? String == "451 4.3.0 <alice@example.com> Temporary internal error")
    }

    @Test("an over-quota message: bob's 1M userdb rule, a 2 MB message, 552 5.2.2 after the message, exit status 77")
    func overQuota() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let text = try await Self.explain(fixture, ["--size", "2000000", "bob@example.com"])
        #expect(text.status == 77, "\(text.standardOutput)\(text.standardError)")
        #expect(text.standardOutput.contains("userdb field quota_rule"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("LMTP: after the message -> 552 5.2.2 <bob@example.com> Quota exceeded (mailbox for user is full)\n"), "\(text.standardOutput)")
        #expect(text.standardOutput.hasSuffix("outcome: refused\n"))
        let (top, _) = try Self.json(try await Self.explain(fixture, ["--format", "json", "--size", "2000000", "bob@example.com"]))
        #expect(top["outcome"] as? String == "refused")
        #expect((top["dataReply"] as? String)?.hasPrefix("552 5.2.2 ") == true)
    }

    @Test("a Sieve fileinto: the script's file and the Work folder, for a message file given on the command line")
    func sieveFileinto() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let message = try fixture.dir.write("message", "From: a@example.org\nSubject: work\n\nthe report\n")
        let text = try await Self.explain(fixture, ["-f", "a@example.org", "alice@example.com", message])
        #expect(text.status == 0, "\(text.standardError)")
        let output = text.standardOutput
        #expect(output.contains("from <a@example.org> to <alice@example.com>"), "\(output)")
        #expect(output.contains(".dovecot.sieve"), "\(output)")
        #expect(output.contains("store message in folder: Work"), "\(output)")
        #expect(output.contains("\n  Work: \(fixture.maildir("alice"))/.Work/new/"), "\(output)")
        let (_, steps) = try Self.json(try await Self.explain(fixture, ["--format", "json", "-f", "a@example.org", "alice@example.com", message]))
        #expect((steps["sieve"]?["result"] as? String)?.contains("Work") == true, "\(String(describing: steps["sieve"]))")
        #expect(fixture.files(fixture.maildir("alice")).isEmpty)
        #expect(fixture.files(fixture.maildir("alice") + "/.Work").isEmpty)
    }

    @Test("a detail address: the detail split by recipient_delimiter and the user looked up without it")
    func detailAddress() async throws {
        let fixture = try Self.fixture()
        defer { fixture.dir.remove() }
        let text = try await Self.explain(fixture, ["Carol+News@example.org"])
        #expect(text.status == 0, "\(text.standardError)")
        let output = text.standardOutput
        #expect(output.contains("\nnormalisation: looked up as carol@example.org\n"), "\(output)")
        #expect(output.contains("  without detail: Carol@example.org  [recipient_delimiter = +, \(fixture.configPath):"), "\(output)")
        #expect(output.contains("  detail: News\n"), "\(output)")
        #expect(output.contains("LMTP: RCPT TO:<Carol+News@example.org> -> 250 2.1.5 OK"), "\(output)")
        let (_, steps) = try Self.json(try await Self.explain(fixture, ["--format", "json", "Carol+News@example.org"]))
        let items = (steps["normalisation"]?["items"] as? [[String: Any]]) ?? []
        #expect(items.contains { $0["name"] as? String == "detail" && $0["value"] as? String == "News" }, "\(items)")
    }
}
