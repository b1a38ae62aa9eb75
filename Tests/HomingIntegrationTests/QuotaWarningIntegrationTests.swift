import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `quota_warning` rules against the real server, with Dovecot's `service quota-warning {
/// executable = script ... }` naming a recording script: LMTP deliveries crossing a threshold
/// upwards, and `homing quota recalc` after mail was removed crossing a `-` rule downwards.
@Suite("quota warnings end to end", .serialized, .timeLimit(.minutes(3)))
struct QuotaWarningIntegrationTests {
    /// The recording script: one line per run, the uid it ran as and then its arguments, each
    /// in brackets so that word splitting would show.
    static func recordingScript(_ fixture: IntegrationFixture) throws -> (script: String, record: String) {
        let directory = try fixture.dir.makeDirectory("warnings", mode: 0o1777)
        chmod(directory, 0o1777)
        let record = directory + "/record"
        let script = try fixture.dir.write(
            "quota-warning.sh",
            "#!/bin/sh\nline=\"uid=$(id -u)\"\nfor word in \"$@\"; do line=\"$line [$word]\"; done\necho \"$line\" >> \(record)\n")
        chmod(script, 0o755)
        return (script, record)
    }

    static func recorded(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until `path` has `count` lines (the script runs after the reply).
    static func waitForRecord(_ path: String, count: Int) async throws -> [String] {
        let deadline = Date().addingTimeInterval(30)
        while recorded(path).count < count && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return recorded(path)
    }

    @Test("a delivery crossing 50% upwards runs the script once with the user's arguments, as the service's user, never through a shell; recalc after removal runs the - rule")
    func warningsBothWays() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let (script, record) = try Self.recordingScript(fixture)
        let marker = fixture.dir.file("shell-ran")
        let runAs = geteuid() == 0 ? "user = nobody" : ""
        try QuotaIntegrationTests.enableQuota(
            fixture,
            plugin: """
                quota_rule = *:storage=4k
                quota_warning = storage=50%% quota-warning 50 %u $(touch \(marker))
                quota_warning2 = -storage=50%% quota-warning below %u %d
                """,
            topLevel: """
                service quota-warning {
                  executable = script \(script) --from-homing
                  \(runAs)
                }
                """)
        let expectedUID = geteuid() == 0 ? TestProcess.systemUser("nobody").map { String($0.uid) } ?? "?" : String(geteuid())
        let server = try await fixture.startServer()
        do {
            let client = try await QuotaIntegrationTests.connect(fixture)
            let small = "Subject: small\r\n\r\nhi\r\n.\r\n"
            #expect(try await QuotaIntegrationTests.transaction(client, to: ["alice@example.com"], body: small).data.first?.hasPrefix("250 2.0.0") == true)
            // 2.5 KiB more: from under 2 KiB (50% of 4 KiB) to over it.
            let half = QuotaIntegrationTests.message(kib: 2, subject: "half") .replacingOccurrences(of: "Subject: half\r\n\r\n", with: "Subject: half\r\n\r\n" + String(repeating: "y", count: 500) + "\r\n")
            #expect(try await QuotaIntegrationTests.transaction(client, to: ["alice@example.com"], body: half).data.first?.hasPrefix("250 2.0.0") == true)
            let upward = try await Self.waitForRecord(record, count: 1)
            #expect(upward == ["uid=\(expectedUID) [--from-homing] [50] [alice@example.com] [$(touch] [\(marker))]"], "\(server.log)")
            // Already above: nothing runs again.
            #expect(try await QuotaIntegrationTests.transaction(client, to: ["alice@example.com"], body: small).data.first?.hasPrefix("250 2.0.0") == true)
            try await Task.sleep(for: .seconds(1))
            #expect(Self.recorded(record).count == 1)
            #expect(!FileManager.default.fileExists(atPath: marker))

            // The mail is expunged outside Homing (an IMAP client); recalc notices the drop.
            let maildir = fixture.maildir("alice")
            for name in fixture.files(maildir) { unlink(maildir + "/new/" + name) }
            let recalc = try await HomingBinary.run(["quota", "recalc", "-c", fixture.configPath, "alice@example.com"])
            #expect(recalc.status == 0, "\(recalc.standardError)")
            let both = try await Self.waitForRecord(record, count: 2)
            #expect(both.count == 2 && both[1] == "uid=\(expectedUID) [--from-homing] [below] [alice@example.com] [example.com]", "\(both)\n\(recalc.standardError)")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
