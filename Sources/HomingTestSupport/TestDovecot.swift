import Foundation
import Glibc
import Synchronization

/// A private Dovecot 2.3 (Debian's dovecot-core and dovecot-lmtpd) for interoperability tests:
/// `dovecot -F -c CONF` as a child process, with everything of it (base_dir, state_dir, log,
/// mail) under a temporary directory and one LMTP `inet_listener` on a free port of 127.0.0.1.
/// No imap or pop3 listeners, `ssl = no`.
///
/// ```swift
/// let dovecot = try TestDovecot.start(.init(passdbs: [TestDovecot.proxyPassdb(port: homingPort)],
///                                           settings: [("lmtp_proxy", "yes")]))
/// defer { dovecot.remove() }
/// let client = try await LMTPTestClient.connect(port: dovecot.port)
/// ```
///
/// It does not touch a Dovecot installed on the machine, running or not: its own `base_dir`
/// (so its own master.pid, auth and log sockets), `state_dir`, `instance_name` and ports, and
/// the system's /etc/dovecot is never read. Found by trying with Debian 12's 2.3.19.1: as root
/// the master needs `default_internal_user` / `default_login_user` (dovecot, dovenull); as
/// another user both are that user, the `lmtp` and `auth` services run as it too, and the
/// services that chroot by default (anvil, ipc, old-stats, aggregator) are told not to.
///
/// ``stop()`` and ``start()`` keep the directory (a backend that goes away and comes back);
/// ``remove()`` stops it and deletes the directory (an `atexit` handler does it for instances
/// a test left behind). Calls block the calling thread (they wait for the port), so call them
/// from ``runOnThread(_:)`` in async tests, never from an event loop.
///
/// The only mutable state, the running master's process id, is behind a `Mutex`.
public final class TestDovecot: Sendable {
    /// What the instance's dovecot.conf holds besides the fixed parts.
    public struct Options: Sendable {
        /// `hostname` (the greeting and the Received header).
        public var hostname: String
        /// `mail_location`.
        public var mailLocation: String
        /// The bodies of the `passdb { }` blocks, in order (empty: one static passdb without
        /// proxy fields, as local delivery needs). ``TestDovecot/proxyPassdb(host:port:extra:)``
        /// makes a proxying one (with `lmtp_proxy = yes` in ``settings``).
        public var passdbs: [String]
        /// The bodies of the `userdb { }` blocks, in order; empty means one static userdb
        /// (`uid`/`gid` ``mailUID``/``mailGID``, home `DIR/mail/%d/%n`, `allow_all_users`).
        public var userdbs: [String]
        /// Further top-level `key = value` settings, in order (`lmtp_proxy`, `login_trusted_networks`,
        /// `recipient_delimiter`, ...).
        public var settings: [(String, String)]
        /// Text added verbatim at the end of dovecot.conf (blocks such as `protocol lmtp { }`).
        public var extraConfig: String
        /// The uid and gid mail is delivered as: 5000 when the tests run as root, else our own.
        public var mailUID: uid_t
        public var mailGID: gid_t

        public init(
            hostname: String = "mx.example.com", mailLocation: String = "maildir:~/Maildir",
            passdbs: [String] = [], userdbs: [String] = [], settings: [(String, String)] = [],
            extraConfig: String = "", mailUID: uid_t? = nil, mailGID: gid_t? = nil
        ) {
            self.hostname = hostname
            self.mailLocation = mailLocation
            self.passdbs = passdbs
            self.userdbs = userdbs
            self.settings = settings
            self.extraConfig = extraConfig
            self.mailUID = mailUID ?? (geteuid() == 0 ? 5000 : geteuid())
            self.mailGID = mailGID ?? (geteuid() == 0 ? 5000 : getegid())
        }
    }

    /// The port the LMTP `inet_listener` listens on, on 127.0.0.1.
    public let port: Int
    /// The temporary directory holding everything of this instance.
    public let directory: String
    /// The options it was started with.
    public let options: Options

    /// The generated configuration: the `-c` argument.
    public var configPath: String { directory + "/dovecot.conf" }
    /// `base_dir` (master.pid, the auth and log sockets, the LMTP unix socket `lmtp`).
    public var baseDirectory: String { directory + "/run" }
    /// The LMTP unix socket in `base_dir`.
    public var lmtpSocketPath: String { baseDirectory + "/lmtp" }
    /// `log_path` (errors, infos and, with `mail_debug`/`auth_debug`, debug lines).
    public var logPath: String { directory + "/dovecot.log" }
    /// Where the default static userdb puts homes: `mailRoot/<domain>/<user>`.
    public var mailRoot: String { directory + "/mail" }

    private let running = Mutex<pid_t?>(nil)

    private init(port: Int, directory: String, options: Options) {
        self.port = port
        self.directory = directory
        self.options = options
    }

    /// A passdb body that proxies every recipient to `host:port` over LMTP without a password
    /// check (`driver = static`, `args = proxy=y host=... port=... nopassword=y`), the way a
    /// Dovecot front hands a fleet's recipients to a backend. `extra` is appended to `args`
    /// (`proxy_timeout=5`, `destuser=%n`).
    public static func proxyPassdb(host: String = "127.0.0.1", port: Int, extra: String = "") -> String {
        let args = "proxy=y host=\(host) port=\(port) nopassword=y" + (extra.isEmpty ? "" : " " + extra)
        return "driver = static\nargs = \(args)"
    }

    /// Whether Dovecot's master and LMTP server are installed.
    public static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot")
            && FileManager.default.isExecutableFile(atPath: "/usr/lib/dovecot/lmtp")
    }

    /// Writes the configuration into a new temporary directory, starts Dovecot and waits until
    /// its LMTP port accepts connections.
    public static func start(_ options: Options = Options()) throws -> TestDovecot {
        guard isInstalled else {
            throw TestDovecotError(
                message: "/usr/sbin/dovecot or /usr/lib/dovecot/lmtp is not installed: run scripts/install-deps.sh test")
        }
        let scratch = try ScratchDirectory("homing-dovecot")
        let dovecot = TestDovecot(port: freeLoopbackPort(), directory: scratch.path, options: options)
        do {
            for sub in ["run", "state", "mail"] {
                try FileManager.default.createDirectory(
                    atPath: scratch.file(sub), withIntermediateDirectories: true)
            }
            if geteuid() == 0 { chown(dovecot.mailRoot, options.mailUID, options.mailGID) }
            try scratch.write("dovecot.conf", dovecot.configurationText())
            // A test that fails without remove() (or the process exiting early) still stops it.
            ExitCleanup.shared.add(dovecot) { dovecot.remove() }
            try dovecot.start()
        } catch {
            dovecot.remove()
            throw error
        }
        return dovecot
    }

    // MARK: - Configuration (pure)

    /// The dovecot.conf this instance runs on.
    public func configurationText() -> String {
        let root = geteuid() == 0
        let me = root ? "" : Self.userName(geteuid())
        var lines: [String] = [
            "# Generated by HomingTestSupport.TestDovecot",
            "protocols = lmtp",
            "instance_name = homing-test-\(port)",
            "base_dir = \(baseDirectory)",
            "state_dir = \(directory)/state",
            "log_path = \(logPath)",
            "info_log_path = \(logPath)",
            "debug_log_path = \(logPath)",
            "listen = 127.0.0.1",
            "ssl = no",
            "shutdown_clients = yes",
            "hostname = \(options.hostname)",
            "mail_location = \(options.mailLocation)",
            "first_valid_uid = 100",
            "default_internal_user = \(root ? "dovecot" : me)",
            "default_login_user = \(root ? "dovenull" : me)",
            "default_internal_group = \(root ? "dovecot" : Self.groupName(getegid()))",
        ]
        lines += options.settings.map { "\($0.0) = \($0.1)" }
        lines += [
            "service lmtp {",
            "  inet_listener lmtp {",
            "    address = 127.0.0.1",
            "    port = \(port)",
            "  }",
            "}",
        ]
        if !root {
            // Only root may chroot: these services chroot by default (to base_dir/empty).
            for service in ["anvil", "ipc", "old-stats", "aggregator"] {
                lines += ["service \(service) {", "  chroot =", "}"]
            }
        }
        // Dovecot's auth process will not start without a passdb, even when only userdb
        // lookups are made (local delivery): a static passdb that proxies nothing then.
        let passdbs = options.passdbs.isEmpty ? ["driver = static\nargs = nopassword=y"] : options.passdbs
        for passdb in passdbs {
            lines += ["passdb {"] + passdb.split(separator: "\n").map { "  " + $0 } + ["}"]
        }
        let userdbs =
            options.userdbs.isEmpty
            ? [
                "driver = static\nargs = uid=\(options.mailUID) gid=\(options.mailGID) home=\(mailRoot)/%d/%n allow_all_users=yes"
            ] : options.userdbs
        for userdb in userdbs {
            lines += ["userdb {"] + userdb.split(separator: "\n").map { "  " + $0 } + ["}"]
        }
        if !options.extraConfig.isEmpty { lines.append(options.extraConfig) }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func userName(_ uid: uid_t) -> String {
        guard let user = getpwuid(uid), let name = user.pointee.pw_name else { return "\(uid)" }
        return String(cString: name)
    }

    private static func groupName(_ gid: gid_t) -> String {
        guard let group = getgrgid(gid), let name = group.pointee.gr_name else { return "\(gid)" }
        return String(cString: name)
    }

    // MARK: - Running

    /// Starts Dovecot (again) on the same configuration and port, and waits (up to 60 s) until
    /// the LMTP port accepts connections. Does nothing when it is running.
    public func start() throws {
        try running.withLock { pid in
            if let pid, !Self.reap(pid) { return }
            pid = nil
            let started = try TestProcess.spawn(
                "/usr/sbin/dovecot", ["-F", "-c", configPath],
                standardOutput: directory + "/dovecot.out", standardError: directory + "/dovecot.err")
            pid = started
            let deadline = Date().addingTimeInterval(60)
            while !TestSlapd.accepts(port: port) {
                let exited = Self.reap(started)
                if exited || Date() > deadline {
                    if !exited { Self.terminate(started) }
                    pid = nil
                    throw TestDovecotError(
                        message: "dovecot did not start on 127.0.0.1:\(port):\n\(startupOutput)\n\(log)")
                }
                usleep(20_000)
            }
        }
    }

    /// Stops Dovecot (SIGTERM to the master, which stops its services; SIGKILL after 20 s) and
    /// waits until the master has exited. The directory stays for ``start()``.
    public func stop() {
        running.withLock { pid in
            guard let running = pid else { return }
            pid = nil
            Self.terminate(running)
        }
        // The master is gone; wait (briefly) for its LMTP and auth children to close their
        // listeners too, so that a test of "backend down" sees the port refused.
        let deadline = Date().addingTimeInterval(10)
        while TestSlapd.accepts(port: port) && Date() < deadline { usleep(20_000) }
    }

    /// Whether the master is running.
    public var isRunning: Bool {
        running.withLock { pid in
            guard let current = pid else { return false }
            if Self.reap(current) {
                pid = nil
                return false
            }
            return true
        }
    }

    /// Stops Dovecot and deletes its directory.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
        ExitCleanup.shared.remove(self)
    }

    /// Dovecot's log so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// What the master wrote to standard output and error (configuration errors before the log
    /// is open).
    public var startupOutput: String {
        let out = (try? String(contentsOfFile: directory + "/dovecot.out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: directory + "/dovecot.err", encoding: .utf8)) ?? ""
        return out + err
    }

    /// Waits until the log holds a line for which `matches` is true (Dovecot logs a delivery
    /// just after it replies); returns the log, which the caller checks.
    @discardableResult
    public func waitForLog(timeout: Duration = .seconds(30), _ matches: (Substring) -> Bool) async -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = log
            if text.split(separator: "\n").contains(where: matches) || ContinuousClock.now >= deadline { return text }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Whether `pid` has exited (and is now reaped).
    private static func reap(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        return rc == pid || (rc < 0 && errno == ECHILD)
    }

    /// SIGTERM, up to 20 seconds' wait, then SIGKILL; returns once `pid` is reaped.
    private static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if reap(pid) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}

/// The test Dovecot could not be set up.
public struct TestDovecotError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
