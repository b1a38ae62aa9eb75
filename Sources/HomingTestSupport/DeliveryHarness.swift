import Foundation
import HomingConfig
import HomingDelivery
import HomingUserdb
import NIOCore
import NIOPosix

/// A userdb with fixed answers, for testing the delivery core without a directory server.
public struct FixedUserLookup: UserLookup {
    /// The answer per looked-up name; any other name does not exist.
    public var records: [String: UserdbResult]

    public init(_ records: [String: UserdbResult]) {
        self.records = records
    }

    public func lookup(_ request: UserdbRequest) async -> UserdbResult { records[request.user] ?? .notFound }

    /// A user with a home under `root` (`<root>/<user>`) and no uid: delivered as the test
    /// process itself (see ``DeliveryHarness``).
    public static func user(_ name: String, root: String, extra: [UserdbField] = []) -> UserdbResult {
        .found(UserRecord(user: name, fields: [UserdbField("home", root + "/" + name)] + extra))
    }
}

/// The delivery core over a temporary directory and a ``FixedUserLookup``: users' homes are
/// `<scratch>/<user>`, `mail_location = maildir:~/Maildir`, and files are written as the test
/// process (the resolver is told Homing does not run as root, so that no uid is needed).
public struct DeliveryHarness: Sendable {
    public let scratch: ScratchDirectory
    public let settings: HomingSettings
    public let logs = LogRecorder()

    /// - Parameter configure: changes to the default settings.
    public init(_ configure: (inout HomingSettings) -> Void = { _ in }) throws {
        scratch = try ScratchDirectory("homing-delivery")
        var settings = HomingSettings()
        settings.mailLocation = "maildir:~/Maildir"
        settings.postmasterAddress = "postmaster@example.com"
        settings.hostname = "mx.example.com"
        settings.mailTempDir = scratch.path
        configure(&settings)
        self.settings = settings
    }

    /// A user record for `name` with its home in the scratch directory.
    public func user(_ name: String, extra: [UserdbField] = []) -> UserdbResult {
        FixedUserLookup.user(name, root: scratch.path, extra: extra)
    }

    /// The delivery core for `users` with `plugins`.
    public func delivery(
        users: [String: UserdbResult], plugins: [any DeliveryPlugin] = [], notifier: (any DeliveryNotifier)? = nil
    ) throws -> LocalDelivery {
        let resolver = try RecipientResolver(
            settings: settings, users: FixedUserLookup(users), processUID: geteuid() == 0 ? 1 : geteuid())
        return LocalDelivery(
            settings: settings, hostname: "mx.example.com", resolver: resolver, threadPool: NIOThreadPool.singleton,
            plugins: plugins, notifier: notifier, logger: logs.logger)
    }

    /// The envelope of a test transaction.
    public func envelope(sender: String = "sender@example.org") -> DeliveryEnvelope {
        DeliveryEnvelope(sessionID: "WKD+DRILBmv+TQAAg+zDdQ", sender: sender, clientName: "client.example.org")
    }

    /// Checks each recipient, then delivers `message` to the accepted ones; returns the verdict
    /// per address, and the outcome per accepted recipient (in order).
    public func run(
        _ delivery: LocalDelivery, message: String, to addresses: [String], sender: String = "sender@example.org"
    ) async throws -> (verdicts: [RecipientVerdict], outcomes: [DeliveryOutcome]) {
        let envelope = envelope(sender: sender)
        var verdicts: [RecipientVerdict] = []
        var accepted: [AcceptedRecipient] = []
        for (index, address) in addresses.enumerated() {
            let recipient = EnvelopeRecipient(
                address: address, logID: index == 0 ? envelope.sessionID : "\(envelope.sessionID):R\(index + 1)")
            let verdict = await delivery.checkRecipient(recipient, envelope: envelope)
            verdicts.append(verdict)
            if case .accepted(let user) = verdict { accepted.append(AcceptedRecipient(recipient: recipient, user: user)) }
        }
        guard !accepted.isEmpty else { return (verdicts, []) }
        let spool = try await delivery.makeSpool(for: envelope)
        try await spool.write(ByteBuffer(string: message))
        return (verdicts, await delivery.deliver(spool, to: accepted, envelope: envelope))
    }

    /// The files in `user`'s `folder` (`""` for INBOX; Maildir++ `.name` otherwise) under `sub`.
    public func files(of user: String, folder: String = "", in sub: String = "new") -> [String] {
        let base = scratch.path + "/" + user + "/Maildir" + (folder.isEmpty ? "" : "/." + folder) + "/" + sub
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted().map { base + "/" + $0 }
    }

    /// A file's text.
    public func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
