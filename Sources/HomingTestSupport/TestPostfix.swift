import Foundation
import Glibc

/// A private Postfix instance for end-to-end tests: its own configuration directory, queue,
/// data directory and log file under a temporary directory, smtpd on a free loopback port.
///
/// ```swift
/// let postfix = try await TestPostfix.start(settings: [("virtual_mailbox_domains", "example.com")])
/// // Homing's unix_listener: postfix.lmtpSocketPath (QUEUE/private/dovecot-lmtp)
/// let sent = try await postfix.send(from: "a@example.org", to: ["alice@example.com"], message: "Subject: x\r\n\r\nhi\r\n")
/// try await postfix.waitForLog("\(sent.queueID ?? "?"): to=<alice@example.com>", "status=sent")
/// try await postfix.waitForQueueEmpty()
/// await postfix.stop()
/// ```
///
/// How Debian's Postfix 3.7 runs from a non-default directory (found by trying): as root,
/// `postfix -c DIR start` works without listing DIR in the default main.cf's
/// `alternate_config_directories` (that list only matters to the set-gid `postdrop` and
/// `postqueue` when run by other users; /etc/postfix/main.cf need not even exist).
/// `postfix start` runs `postfix check` itself, which creates the queue directories with the
/// right owners; the data directory must already be owned by `mail_owner`. A `maillog_file`
/// outside /var needs its directory in `maillog_file_prefixes`, and the `postlog` service in
/// master.cf. Every service in the generated master.cf runs unchrooted, so nothing has to be
/// copied into the queue directory.
///
/// Needs root (Postfix's master runs as root and its daemons as `postfix`). Instances still
/// running when the test process exits are stopped by an `atexit` handler.
public final class TestPostfix: Sendable {
    /// The temporary directory holding everything of this instance.
    public let directory: String
    /// The port smtpd listens on, on 127.0.0.1.
    public let smtpPort: Int
    /// `myhostname`.
    public let hostname: String

    /// The configuration directory (`main.cf`, `master.cf`): the `-c` argument.
    public var configDirectory: String { directory + "/etc" }
    /// `queue_directory`.
    public var queueDirectory: String { directory + "/queue" }
    /// `data_directory`.
    public var dataDirectory: String { directory + "/data" }
    /// `maillog_file`: where every Postfix daemon logs.
    public var maillogPath: String { directory + "/maillog" }
    /// Where `lmtp:unix:private/dovecot-lmtp` connects: Homing's unix_listener path.
    public var lmtpSocketPath: String { queueDirectory + "/private/dovecot-lmtp" }

    private init(directory: String, smtpPort: Int, hostname: String) {
        self.directory = directory
        self.smtpPort = smtpPort
        self.hostname = hostname
    }

    // MARK: - Configuration (pure)

    /// The main.cf settings every instance gets, in order; `settings` given to
    /// ``start(label:hostname:settings:)`` replace or extend them.
    public static func baseSettings(directory: String, hostname: String) -> [(String, String)] {
        [
            ("compatibility_level", "3.6"),
            ("queue_directory", directory + "/queue"),
            ("data_directory", directory + "/data"),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("myhostname", hostname),
            ("mydomain", "example.com"),
            ("myorigin", "example.com"),
            ("mydestination", ""),
            ("mynetworks", "127.0.0.0/8"),
            ("relayhost", ""),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("smtp_dns_support_level", "disabled"),
            ("biff", "no"),
            ("maillog_file", directory + "/maillog"),
            ("maillog_file_prefixes", directory),
            ("queue_run_delay", "1s"),
            ("minimal_backoff_time", "1s"),
            ("maximal_backoff_time", "2s"),
            ("lmtp_connect_timeout", "10s"),
            ("address_verify_map", "btree:$data_directory/verify_cache"),
            ("address_verify_positive_expire_time", "1d"),
            ("address_verify_negative_expire_time", "1m"),
            ("address_verify_poll_count", "10"),
            ("address_verify_poll_delay", "1s"),
            ("virtual_mailbox_domains", "example.com example.org"),
            ("virtual_transport", "lmtp:unix:private/dovecot-lmtp"),
        ]
    }

    /// The text of main.cf: ``baseSettings(directory:hostname:)`` with `overrides` applied (a
    /// setting already there keeps its place and takes the new value, a new one is appended).
    public static func mainCf(directory: String, hostname: String, overrides: [(String, String)]) -> String {
        var settings = baseSettings(directory: directory, hostname: hostname)
        for (key, value) in overrides {
            if let index = settings.firstIndex(where: { $0.0 == key }) {
                settings[index].1 = value
            } else {
                settings.append((key, value))
            }
        }
        return settings.map { $0.1.isEmpty ? "\($0.0) =" : "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
    }

    /// The text of master.cf: Debian's services, none chrooted, smtpd on `127.0.0.1:port` only.
    public static func masterCf(port: Int) -> String {
        """
        # service type  private unpriv  chroot  wakeup  maxproc command
        127.0.0.1:\(port) inet n - n - - smtpd
        pickup    unix  n       -       n       60      1       pickup
        cleanup   unix  n       -       n       -       0       cleanup
        qmgr      unix  n       -       n       300     1       qmgr
        rewrite   unix  -       -       n       -       -       trivial-rewrite
        bounce    unix  -       -       n       -       0       bounce
        defer     unix  -       -       n       -       0       bounce
        trace     unix  -       -       n       -       0       bounce
        verify    unix  -       -       n       -       1       verify
        flush     unix  n       -       n       1000?   0       flush
        proxymap  unix  -       -       n       -       -       proxymap
        proxywrite unix -       -       n       -       1       proxymap
        smtp      unix  -       -       n       -       -       smtp
        relay     unix  -       -       n       -       -       smtp
        showq     unix  n       -       n       -       -       showq
        error     unix  -       -       n       -       -       error
        retry     unix  -       -       n       -       -       error
        discard   unix  -       -       n       -       -       discard
        local     unix  -       n       n       -       -       local
        virtual   unix  -       n       n       -       -       virtual
        lmtp      unix  -       -       n       -       -       lmtp
        anvil     unix  -       -       n       -       1       anvil
        scache    unix  -       -       n       -       1       scache
        postlog   unix-dgram n  -       n       -       1       postlogd

        """
    }

    // MARK: - Life cycle

    /// Writes a configuration and starts `postfix -c DIR start`; returns once smtpd accepts
    /// connections (within 30 s) or throws with the start's output and the mail log.
    ///
    /// - Parameters:
    ///   - settings: main.cf settings replacing or extending ``baseSettings(directory:hostname:)``
    ///     (an empty value writes `key =`).
    ///   - services: lines appended to master.cf (a `pipe` transport, say).
    public static func start(
        label: String = "homing-postfix", hostname: String = "mx.example.com", settings: [(String, String)] = [],
        services: String = ""
    ) async throws -> TestPostfix {
        // The port was free a moment ago; a parallel test may take it first: try a few.
        var attempt = 1
        while true {
            do {
                return try await startOnce(label: label, hostname: hostname, settings: settings, services: services)
            } catch let error as TestProcessError where error.message.contains("Address already in use") && attempt < 4 {
                attempt += 1
            }
        }
    }

    private static func startOnce(
        label: String, hostname: String, settings: [(String, String)], services: String
    ) async throws -> TestPostfix {
        guard geteuid() == 0 else {
            throw TestProcessError(message: "TestPostfix needs root: Postfix's master runs as root")
        }
        guard let owner = TestProcess.systemUser("postfix") else {
            throw TestProcessError(message: "no 'postfix' system user: install Postfix (scripts/install-deps.sh test)")
        }
        let scratch = try ScratchDirectory(label)
        let instance = TestPostfix(directory: scratch.path, smtpPort: freeLoopbackPort(), hostname: hostname)
        do {
            for sub in ["etc", "queue", "data"] {
                try FileManager.default.createDirectory(atPath: scratch.file(sub), withIntermediateDirectories: true)
            }
            chmod(instance.queueDirectory, 0o755)
            guard chown(instance.dataDirectory, owner.uid, owner.gid) == 0 else {
                throw TestProcessError(message: "chown \(instance.dataDirectory): \(String(cString: strerror(errno)))")
            }
            chmod(instance.dataDirectory, 0o700)
            try scratch.write("etc/main.cf", mainCf(directory: scratch.path, hostname: hostname, overrides: settings))
            try scratch.write("etc/master.cf", masterCf(port: instance.smtpPort) + services + (services.isEmpty ? "" : "\n"))
            ExitCleanup.shared.add(instance) { instance.stopBlocking() }
            let result = try await runOnThread { [configDirectory = instance.configDirectory] in
                try TestProcess.run("/usr/sbin/postfix", ["-c", configDirectory, "start"])
            }
            guard result.succeeded else {
                throw TestProcessError(
                    message: "postfix start failed (\(result.status)): \(result.standardError)\n\(instance.maillog)")
            }
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let client = try? await LMTPTestClient.connect(port: instance.smtpPort),
                    let greeting = try? await client.readReply(), greeting.first?.hasPrefix("220") == true
                {
                    _ = try? await client.command("QUIT")
                    return instance
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw TestProcessError(message: "Postfix's smtpd did not answer on port \(instance.smtpPort) in 30 s:\n\(instance.maillog)")
        } catch {
            await instance.stop()
            throw error
        }
    }

    /// Changes main.cf settings (`postconf -c DIR -e`) and reloads the running instance.
    public func reconfigure(_ settings: [(String, String)]) async throws {
        let arguments = ["-c", configDirectory, "-e"] + settings.map { "\($0.0)=\($0.1)" }
        _ = try await runOnThread { try TestProcess.runChecked("/usr/sbin/postconf", arguments) }
        _ = try await runOnThread { [configDirectory] in
            try TestProcess.runChecked("/usr/sbin/postfix", ["-c", configDirectory, "reload"])
        }
    }

    /// Stops the instance (`postfix -c DIR stop`, which waits for the master to exit) and
    /// removes its directory.
    public func stop() async {
        _ = try? await runOnThread { [self] in stopBlocking() }
    }

    fileprivate func stopBlocking() {
        // Unregistered only at the end: if the test process exits meanwhile, the atexit
        // handler still stops this instance.
        defer { ExitCleanup.shared.remove(self) }
        if let pid = masterPID(), kill(pid, 0) == 0 {
            _ = try? TestProcess.run("/usr/sbin/postfix", ["-c", configDirectory, "stop"])
            // postfix stop waits up to 5 s and then kills the process group; make sure.
            let deadline = Date().addingTimeInterval(10)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
            if kill(pid, 0) == 0 { kill(-pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The master's pid from QUEUE/pid/master.pid, when there is one.
    public func masterPID() -> pid_t? {
        guard let text = try? String(contentsOfFile: queueDirectory + "/pid/master.pid", encoding: .utf8) else {
            return nil
        }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: - Mail and log

    /// Everything Postfix has logged so far.
    public var maillog: String {
        (try? String(contentsOfFile: maillogPath, encoding: .utf8)) ?? ""
    }

    /// The mail log's lines that contain `text`.
    public func logLines(containing text: String) -> [String] {
        maillog.split(separator: "\n").filter { $0.contains(text) }.map(String.init)
    }

    /// Waits until at least `count` log lines contain every one of `texts`; returns those lines.
    /// Throws after `timeout` seconds, quoting the log.
    @discardableResult
    public func waitForLog(_ texts: String..., count: Int = 1, timeout: Double = 30) async throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let lines = maillog.split(separator: "\n").filter { line in texts.allSatisfy { line.contains($0) } }
            if lines.count >= count { return lines.map(String.init) }
            guard Date() < deadline else {
                throw TestProcessError(
                    message: "no \(count) Postfix log line(s) with \(texts) in \(timeout) s; log:\n\(maillog)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The queue as `postqueue -j` prints it: one JSON object per message.
    public func queueListing() async throws -> String {
        try await runOnThread { [configDirectory] in
            try TestProcess.runChecked("/usr/sbin/postqueue", ["-c", configDirectory, "-j"]).standardOutput
        }
    }

    /// `postqueue -f`: asks the queue manager to try every queued message now, whatever its
    /// retry time. A retry must not wait on Postfix's own schedule: when a deferred queue file
    /// is still locked by the delivery agent at the next 1 s queue scan, qmgr logs "skipped,
    /// still being delivered" and puts it off for 60 s.
    public func flushQueue() async throws {
        _ = try await runOnThread { [configDirectory] in
            try TestProcess.runChecked("/usr/sbin/postqueue", ["-c", configDirectory, "-f"]).standardOutput
        }
    }

    /// Waits until the queue (incoming, active, deferred, hold) is empty; throws after
    /// `timeout` seconds with the queue listing and the log.
    public func waitForQueueEmpty(timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let listing = try await queueListing()
            if listing.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            guard Date() < deadline else {
                throw TestProcessError(message: "Postfix's queue is not empty after \(timeout) s:\n\(listing)\nlog:\n\(maillog)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// What one SMTP transaction got back.
    public struct SMTPTransaction: Sendable {
        /// The reply to each `RCPT TO`, in order (the last line of each reply).
        public var recipientReplies: [String]
        /// The reply to the end of DATA (the queue id is in it), or nil when no recipient was
        /// accepted and DATA was not sent.
        public var dataReply: String?

        /// The Postfix queue id in `250 2.0.0 Ok: queued as ID`.
        public var queueID: String? {
            guard let dataReply, let range = dataReply.range(of: "queued as ") else { return nil }
            return String(dataReply[range.upperBound...])
        }
    }

    /// Sends one message over SMTP to smtpd: `EHLO`, `MAIL FROM`, one `RCPT TO` per recipient,
    /// and `DATA` when at least one recipient was accepted. `message` is the header and body,
    /// lines ended by CRLF (dot-stuffing is done here).
    public func send(from sender: String, to recipients: [String], message: String) async throws -> SMTPTransaction {
        try await send(from: sender, to: recipients, message: message, mailParameters: "", rcptParameters: "")
    }

    /// ``send(from:to:message:)`` with ESMTP parameters: `mailParameters` after `MAIL FROM:<...>`
    /// (`RET=HDRS ENVID=x`), `rcptParameters` after each `RCPT TO:<...>` (`NOTIFY=SUCCESS`).
    public func send(
        from sender: String, to recipients: [String], message: String, mailParameters: String, rcptParameters: String
    ) async throws -> SMTPTransaction {
        let client = try await LMTPTestClient.connect(port: smtpPort)
        let greeting = try await client.readReply()
        guard greeting.last?.hasPrefix("220") == true else {
            throw TestClientError(message: "smtpd greeting: \(greeting)")
        }
        let ehlo = try await client.command("EHLO client.example.org")
        guard ehlo.last?.hasPrefix("250") == true else { throw TestClientError(message: "EHLO: \(ehlo)") }
        let mail = try await client.command("MAIL FROM:<\(sender)>" + (mailParameters.isEmpty ? "" : " " + mailParameters))
        guard mail.last?.hasPrefix("250") == true else { throw TestClientError(message: "MAIL FROM: \(mail)") }
        var transaction = SMTPTransaction(recipientReplies: [], dataReply: nil)
        for recipient in recipients {
            let rcpt = "RCPT TO:<\(recipient)>" + (rcptParameters.isEmpty ? "" : " " + rcptParameters)
            transaction.recipientReplies.append(try await client.command(rcpt).last ?? "")
        }
        if transaction.recipientReplies.contains(where: { $0.hasPrefix("250") }) {
            let data = try await client.command("DATA")
            guard data.last?.hasPrefix("354") == true else { throw TestClientError(message: "DATA: \(data)") }
            var body = message.hasSuffix("\r\n") ? message : message + "\r\n"
            body = body.split(separator: "\r\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
            try await client.send(body + ".\r\n")
            transaction.dataReply = try await client.readReply().last
        }
        _ = try? await client.command("QUIT")
        return transaction
    }

    /// Sends `EHLO`, `MAIL FROM`, `RCPT TO:<recipient>` and `QUIT`: smtpd's full reply to the
    /// RCPT (for address verification, where smtpd asks the verify service first).
    public func rcptReply(from sender: String = "sender@example.org", to recipient: String) async throws -> String {
        let client = try await LMTPTestClient.connect(port: smtpPort)
        _ = try await client.readReply()
        _ = try await client.command("EHLO client.example.org")
        _ = try await client.command("MAIL FROM:<\(sender)>")
        let reply = try await client.command("RCPT TO:<\(recipient)>")
        _ = try? await client.command("QUIT")
        return reply.joined(separator: "\n")
    }
}
