import Foundation
import Glibc
import HomingConfig
import HomingDelivery
import HomingMaildir
import HomingQuota
import HomingTestSupport
import HomingUserdb
import NIOPosix
import Testing

@testable import HomingQuotaPlugin

@Suite("Quota warnings run through a script service, and quota-status's answers", .serialized)
struct QuotaWarningAndStatusTests {
    /// A 1 KiB quota for alice, `warnings` as quota_warning, quota_warning2...; the recording
    /// script's service `quota-warning`, run as nobody (as the test process when not root).
    func setUp(warnings: [String], record: String, script: String, quota: String = "1k") throws -> (DeliveryHarness, LocalDelivery, QuotaPlugin) {
        let harness = try DeliveryHarness {
            $0.mailPlugins = ["quota"]
            $0.plugin = ["quota": "maildir:User quota", "quota_rule": "*:storage=\(quota)", "quota_grace": "0"]
            for (index, warning) in warnings.enumerated() {
                $0.plugin[index == 0 ? "quota_warning" : "quota_warning\(index + 1)"] = warning
            }
            var service = ServiceSettings(name: "quota-warning", kind: .script(program: script, arguments: ["--from-service"]))
            service.user = "nobody"
            $0.services = [service]
        }
        let plugin = try QuotaPlugin(settings: harness.settings, threadPool: NIOThreadPool.singleton, logger: harness.logs.logger)
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice@example.com")], plugins: [plugin])
        return (harness, delivery, plugin)
    }

    /// A script that appends its arguments to `record`, one run per line.
    static func recordingScript(in scratch: ScratchDirectory) throws -> (script: String, record: String) {
        let directory = scratch.file("warnings")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o1777)
        chmod(scratch.path, 0o755)
        let record = directory + "/record"
        let script = try scratch.write("warn.sh", "#!/bin/sh\necho \"$@\" >> \(record)\n")
        chmod(script, 0o755)
        return (script, record)
    }

    static func recorded(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("crossing 50% upwards runs the first matching warning once, its words expanded for the user, never through a shell")
    func upwardWarning() async throws {
        let scratch = try ScratchDirectory("homing-qw")
        defer { scratch.remove() }
        let (script, record) = try Self.recordingScript(in: scratch)
        let (harness, delivery, _) = try setUp(
            warnings: ["storage=90%% quota-warning 90 %u", "storage=50%% quota-warning 50 %u $(touch /tmp/x) %d"],
            record: record, script: script, quota: "2k")
        defer { harness.scratch.remove() }
        let small = "Subject: a\r\n\r\nhi\r\n"
        let half = "Subject: b\r\n\r\n" + String(repeating: "y", count: 600) + "\r\n"
        #expect(try await harness.run(delivery, message: small, to: ["alice@example.com"]).outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(Self.recorded(record).isEmpty)
        let second = try await harness.run(delivery, message: half, to: ["alice@example.com"]).outcomes
        #expect(second == [.stored(mailboxes: ["INBOX"])], "\(harness.logs.lines)")
        #expect(Self.recorded(record) == ["--from-service 50 alice@example.com $(touch /tmp/x) example.com"])
        // Already above 50%: a further small message crosses nothing.
        #expect(try await harness.run(delivery, message: small, to: ["alice@example.com"]).outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(Self.recorded(record).count == 1)
    }

    @Test("a - warning runs when homing quota recalc finds the usage gone below its limit")
    func downwardWarning() async throws {
        let scratch = try ScratchDirectory("homing-qw")
        defer { scratch.remove() }
        let (script, record) = try Self.recordingScript(in: scratch)
        let (harness, delivery, plugin) = try setUp(warnings: ["-storage=50%% quota-warning below %u"], record: record, script: script)
        defer { harness.scratch.remove() }
        let half = "Subject: b\r\n\r\n" + String(repeating: "y", count: 600) + "\r\n"
        #expect(try await harness.run(delivery, message: half, to: ["alice@example.com"]).outcomes == [.stored(mailboxes: ["INBOX"])])
        #expect(Self.recorded(record).isEmpty)
        for file in harness.files(of: "alice@example.com") { unlink(file) }
        let user = try await delivery.resolver.resolve(address: "alice@example.com")
        let config = try plugin.configuration(for: user)
        _ = try plugin.recalculateAndWarn(user, config: config)
        #expect(Self.recorded(record) == ["--from-service below alice@example.com"], "\(harness.logs.lines)")
    }

    @Test("warning rules: Dovecot's syntax, percentages of the user's limit, crossings in each direction")
    func rules() throws {
        let up = try QuotaWarningRule.parse("storage=95%% quota-warning 95 %u")
        #expect(up.direction == .upwards && up.command == ["quota-warning", "95", "%u"])
        let limits = QuotaLimits(bytes: 1000, messages: 10)
        #expect(up.limits(for: limits) == (950, 0))
        #expect(up.crossing(from: .init(bytes: 900, messages: 1), to: .init(bytes: 950, messages: 2), userLimits: limits)
                == "bytes=900 -> 950 over limit 950")
        #expect(up.crossing(from: .init(bytes: 950, messages: 1), to: .init(bytes: 990, messages: 2), userLimits: limits) == nil)
        let count = try QuotaWarningRule.parse("+messages=50% warn")
        #expect(count.crossing(from: .init(bytes: 0, messages: 4), to: .init(bytes: 0, messages: 5), userLimits: limits)
                == "count=4 -> 5 over limit 5")
        let down = try QuotaWarningRule.parse("-storage=100M below")
        #expect(down.direction == .downwards)
        #expect(down.crossing(from: .init(bytes: 200 << 20, messages: 1), to: .init(bytes: 50 << 20, messages: 1), userLimits: limits)
                == "bytes=209715200 -> 52428800 below limit 104857600")
        // No limit for a percentage of nothing: never.
        #expect(up.crossing(from: .zero, to: .init(bytes: 1 << 40, messages: 1), userLimits: .unlimited) == nil)
        #expect(throws: QuotaRuleError.self) { try QuotaWarningRule.parse("storage=95%") }
        #expect(throws: QuotaRuleError.self) { try QuotaWarningRule.parse("storage=lots warn") }
        #expect(throws: QuotaRuleError.self) { try QuotaWarningSet(plugin: ["quota_warning": "noise"]) }
        let set = try QuotaWarningSet(plugin: ["quota_warning": "storage=90%% a", "quota_warning2": "storage=50%% b", "quota_warning4": "storage=1%% c"])
        #expect(set.rules.map(\.command) == [["a"], ["b"]])
    }

    @Test("quota-status's allocation test: 1 byte when the size is unknown, the grace counted, the message alone larger than the quota")
    func allocation() async throws {
        let scratch = try ScratchDirectory("homing-qs")
        defer { scratch.remove() }
        let (harness, delivery, plugin) = try setUp(warnings: [], record: "", script: "/bin/true")
        defer { harness.scratch.remove() }
        let user = try await delivery.resolver.resolve(address: "alice@example.com")
        #expect(await plugin.testAllocation(for: user, size: 0) == .ok)
        #expect(await plugin.testAllocation(for: user, size: 1024) == .ok)
        #expect(await plugin.testAllocation(for: user, size: 1025) == .overQuotaLimit(message: "Quota exceeded (mailbox for user is full)"))
        _ = try await harness.run(delivery, message: "Subject: f\r\n\r\nx\r\n", to: ["alice@example.com"])
        // Another writer (an IMAP server's APPEND) took the user over the limit.
        try "1024S\n2000 3\n".write(toFile: harness.scratch.file("alice@example.com/Maildir/maildirsize"), atomically: false, encoding: .utf8)
        #expect(await plugin.testAllocation(for: user, size: 0) == .overQuota(message: "Quota exceeded (mailbox for user is full)"))
    }

    @Test("quota-status's replies: Dovecot's defaults, the settings, %{error}, a userdb field overriding")
    func replies() throws {
        let user = DeliveryUser(
            user: "alice@example.com", record: UserRecord(user: "alice@example.com"), identity: nil, home: "/h",
            mailLocationText: "maildir:/h/Maildir", mailLocation: try MailLocation.parse("maildir:/h/Maildir", home: "/h"),
            detail: nil, mailbox: "INBOX")
        let defaults = QuotaStatusReplies(plugin: [:])
        #expect(defaults.action(for: .ok, user: user) == "OK")
        #expect(defaults.action(for: .overQuota(message: "Quota exceeded (mailbox for user is full)"), user: user)
                == "554 5.2.2 Quota exceeded (mailbox for user is full)")
        #expect(defaults.action(for: .overMaxSize(message: "Too big"), user: user) == "554 5.2.2 Too big")
        #expect(defaults.action(for: .temporaryFailure(reason: "x"), user: user) == "DEFER_IF_PERMIT Temporary internal error")
        #expect(defaults.noUser == "REJECT Unknown user")
        let configured = QuotaStatusReplies(plugin: [
            "quota_status_success": "DUNNO", "quota_status_overquota": "552 5.2.2 Mailbox of %u is full",
            "quota_status_toolarge": "552 5.3.4 %{error}", "quota_status_nouser": "DUNNO",
        ])
        #expect(configured.action(for: .ok, user: user) == "DUNNO")
        #expect(configured.action(for: .overQuota(message: "q"), user: user) == "552 5.2.2 Mailbox of alice@example.com is full")
        #expect(configured.action(for: .overQuotaLimit(message: "q"), user: user) == "552 5.3.4 q")
        #expect(configured.noUser == "DUNNO")
        var special = user
        special.record["quota_status_success"] = "PREPEND X-Quota: ok"
        #expect(configured.action(for: .ok, user: special) == "PREPEND X-Quota: ok")
    }
}
