import Foundation
import Glibc
import HomingDSN
import HomingDelivery
import HomingSubmission
import HomingTestSupport
import NIOPosix
import Testing

@testable import HomingLDA

/// Records submissions.
final class RecordingSubmitter: MailSubmitter, Sendable {
    let sent = Locked<[(message: String, from: String, to: [String])]>([])
    func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String]) throws(SubmissionError) {
        sent.withValue { $0.append((String(decoding: message.prefix, as: UTF8.self), sender, recipients)) }
    }
}

/// Refuses every copy: the mailbox is full.
struct FullMailbox: DeliveryPlugin {
    let name = "full"
    func storeCopy(
        _ action: StoreAction, size: Int, for user: DeliveryUser, recipient: EnvelopeRecipient,
        store: () throws(StoreFailure) -> StoreCopyOutcome
    ) throws(StoreFailure) -> StoreCopyOutcome {
        .notStored(.refused(.mailboxFull(message: "Quota exceeded (mailbox for user is full)")), reason: "full")
    }
}

@Suite("homing deliver over the delivery core, in process")
struct LocalDeliveryAgentTests {
    struct Setup {
        let harness: DeliveryHarness
        let submitter = RecordingSubmitter()
        let agent: LocalDeliveryAgent

        init(plugins: [any DeliveryPlugin] = [], processUID: UInt32 = 1000, environment: [String: String] = [:]) throws {
            harness = try DeliveryHarness()
            let users = ["alice@example.com": harness.user("alice@example.com")]
            let delivery = try harness.delivery(users: users, plugins: plugins)
            agent = LocalDeliveryAgent(
                delivery: delivery, threadPool: NIOThreadPool.singleton, submitter: NotificationSubmitter(submitter: submitter),
                logger: harness.logs.logger, processUID: processUID, environment: environment)
        }

        func run(_ words: [String], message: String) async throws -> LDAResult {
            let path = try harness.scratch.write("message-\(UUID().uuidString)", message)
            let line = try LDACommandLine.parse(words + ["-p", path]).get()
            return await agent.run(line)
        }
    }

    @Test("-d delivers into INBOX with no trace header added; the mbox From_ line is dropped and gives the sender")
    func delivers() async throws {
        let setup = try Setup()
        defer { setup.harness.scratch.remove() }
        let result = try await setup.run(["-d", "alice@example.com"], message: "From bob@example.org Thu Dec  3 08:14:07 2026\nSubject: hi\n\nbody\n")
        #expect(result == LDAResult(status: 0))
        let files = setup.harness.files(of: "alice@example.com")
        try #require(files.count == 1)
        #expect(setup.harness.text(files[0]) == "Subject: hi\n\nbody\n")
        #expect(setup.harness.logs.lines.contains { $0.message.contains("saved mail to INBOX") })
    }

    @Test("-m names the folder; a missing one falls back to INBOX")
    func mailbox() async throws {
        let setup = try Setup()
        defer { setup.harness.scratch.remove() }
        #expect(try await setup.run(["-d", "alice@example.com", "-m", "Lists"], message: "Subject: a\n\nx\n").status == 0)
        #expect(setup.harness.files(of: "alice@example.com").count == 1)
    }

    @Test("an unknown user exits 67; no -d as root is a usage error (64)")
    func unknownAndUsage() async throws {
        let setup = try Setup()
        defer { setup.harness.scratch.remove() }
        #expect(try await setup.run(["-d", "nosuch@example.com"], message: "Subject: a\n\nx\n") == LDAResult(status: 67))
        let root = try Setup(processUID: 0)
        defer { root.harness.scratch.remove() }
        let usage = try await root.run([], message: "Subject: a\n\nx\n")
        #expect(usage == LDAResult(status: 64, standardError: ["destination user parameter (-d user) not given"]))
    }

    @Test("without -d, started as a user, the user comes from USER and HOME without a userdb lookup")
    func invokingUser() async throws {
        let harness = try DeliveryHarness()
        defer { harness.scratch.remove() }
        let home = harness.scratch.file("me")
        let setup = try Setup(environment: ["USER": "me", "HOME": home])
        defer { setup.harness.scratch.remove() }
        #expect(try await setup.run([], message: "Subject: a\n\nx\n").status == 0)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home + "/Maildir/new")) ?? []
        #expect(names.count == 1)
    }

    @Test("a full mailbox with -e: the reason on standard error and exit 77, nothing sent")
    func refusedWithE() async throws {
        let setup = try Setup(plugins: [FullMailbox()])
        defer { setup.harness.scratch.remove() }
        let result = try await setup.run(["-e", "-d", "alice@example.com", "-f", "s@example.org"], message: "Subject: a\n\nx\n")
        #expect(result == LDAResult(status: 77, standardError: ["Quota exceeded (mailbox for user is full)"]))
        #expect(setup.submitter.sent.current.isEmpty)
    }

    @Test("a full mailbox without -e: dovecot-lda's rejection goes to the sender from <>, exit 0; none for the null sender")
    func refusedWithReport() async throws {
        let setup = try Setup(plugins: [FullMailbox()])
        defer { setup.harness.scratch.remove() }
        let result = try await setup.run(
            ["-d", "alice@example.com", "-f", "s@example.org", "-a", "all@example.com"], message: "Subject: big\n\nx\n")
        #expect(result == LDAResult(status: 0))
        let sent = setup.submitter.sent.current
        try #require(sent.count == 1)
        #expect(sent[0].from == "" && sent[0].to == ["s@example.org"])
        #expect(sent[0].message.contains("Subject: Rejected: big\r\n"))
        #expect(sent[0].message.contains("Your message to <all@example.com> was automatically rejected:\r\nQuota exceeded"))
        #expect(sent[0].message.contains("Status: 5.2.2\r\n"))
        #expect(try await setup.run(["-d", "alice@example.com", "-f", ""], message: "Subject: big\n\nx\n").status == 0)
        #expect(setup.submitter.sent.current.count == 1)
    }
}
