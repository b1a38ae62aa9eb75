import Foundation
import Glibc
import Synchronization

/// A throwaway OpenLDAP server for tests: Debian's slapd with a cn=config generated into a
/// temporary directory, an mdb database for `dc=example,dc=com`, the core, cosine, nis and
/// inetorgperson schemas, Homing's `ldap/homing-schema.ldif` and `ldap/sample.ldif` loaded with
/// `ldapadd` (as the README tells administrators to), listening on a free port of 127.0.0.1.
///
/// Anyone may read everything but passwords (so anonymous configurations can be tested); the
/// manager (`cn=admin,dc=example,dc=com`) may write. ``stop()`` and ``start()`` keep the data,
/// for recovery tests. Call ``remove()`` when done (stops the server, deletes the directory).
///
/// Calls block the calling thread (they run slapadd, ldapadd and wait for the port).
///
/// The only mutable state, the running slapd's process id, is behind a `Mutex`.
public final class TestSlapd: Sendable {
    /// The suffix of the database.
    public static let suffix = "dc=example,dc=com"
    /// The base the sample users are under.
    public static let usersBase = "ou=domains,dc=example,dc=com"
    /// The root DN of the database and its password.
    public static let managerDN = "cn=admin,dc=example,dc=com"
    public static let managerPassword = "manager-secret"
    /// The account `ldap/dovecot-ldap.conf.ext` binds as (from `ldap/sample.ldif`) and its password.
    public static let serviceDN = "cn=homing,ou=services,dc=example,dc=com"
    public static let servicePassword = "secret"

    /// The port slapd listens on (127.0.0.1 only) and its URI, `ldap://127.0.0.1:PORT/`.
    public let port: Int
    public let uri: String
    /// The temporary directory holding cn=config, the database and slapd's log.
    public let directory: String

    private let running = Mutex<pid_t?>(nil)

    /// The repository's top directory (where `ldap/` is), found from this source file's path.
    public static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// Creates, loads and starts a server.
    ///
    /// `vmailRoot` replaces `/var/vmail` in the sample users' home directories, and `mailUID` /
    /// `mailGID` replace their uidNumber/gidNumber 5000, so that a delivery test can write into
    /// a temporary directory as a user it chooses.
    public static func start(
        vmailRoot: String? = nil, mailUID: Int? = nil, mailGID: Int? = nil, replication: Replication? = nil
    ) throws -> TestSlapd {
        for tool in ["/usr/sbin/slapd", "/usr/sbin/slapadd", "/usr/bin/ldapadd"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw TestSlapdError(message: "\(tool) is not installed: run scripts/install-deps.sh test")
        }
        let scratch = try ScratchDirectory("homing-slapd")
        let server = TestSlapd(port: freeLoopbackPort(), directory: scratch.path)
        do {
            try server.configure(scratch, provider: replication == .provider)
            try server.start()
            try server.ldapAdd(file: repositoryRoot + "/ldap/homing-schema.ldif", as: "cn=config", password: "config-secret")
            if case .consumer(let provider) = replication {
                try server.replicate(from: provider)
                return server
            }
            var sample = try String(contentsOfFile: repositoryRoot + "/ldap/sample.ldif", encoding: .utf8)
            if let vmailRoot { sample = sample.replacingOccurrences(of: "/var/vmail/", with: vmailRoot + "/") }
            if let mailUID { sample = sample.replacingOccurrences(of: "uidNumber: 5000", with: "uidNumber: \(mailUID)") }
            if let mailGID { sample = sample.replacingOccurrences(of: "gidNumber: 5000", with: "gidNumber: \(mailGID)") }
            try server.add(ldif: sample)
        } catch {
            server.remove()
            throw error
        }
        return server
    }

    private init(port: Int, directory: String) {
        self.port = port
        self.uri = "ldap://127.0.0.1:\(port)/"
        self.directory = directory
    }

    // MARK: - Running

    /// Starts slapd (again) on the same port with the same data, and waits until it accepts
    /// connections. Does nothing when it is running.
    public func start() throws {
        try running.withLock { pid in
            if let pid, !Self.reap(pid) { return }
            pid = nil
            let log = directory + "/slapd.log"
            // -d keeps slapd in the foreground, as our child, so stop() can wait for it; a
            // restart appends to the same log.
            let started = try TestProcess.spawn(
                "/usr/sbin/slapd", ["-d", "0", "-F", directory + "/slapd.d", "-h", uri],
                standardOutput: log, standardError: log, appending: true)
            pid = started
            let deadline = Date().addingTimeInterval(15)
            while !Self.accepts(port: port) {
                let exited = Self.reap(started)
                if exited || Date() > deadline {
                    if !exited { Self.terminate(started) }
                    pid = nil
                    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    throw TestSlapdError(message: "slapd did not start on \(uri):\n\(text)")
                }
                usleep(20_000)
            }
        }
    }

    /// Stops slapd (SIGTERM, then SIGKILL after 10 seconds) and waits until it has exited.
    /// The data stays for ``start()``.
    public func stop() {
        running.withLock { pid in
            guard let running = pid else { return }
            pid = nil
            Self.terminate(running)
        }
    }

    /// Freezes slapd (SIGSTOP): it still accepts TCP connections (the kernel does) but answers
    /// nothing, like a hung server. ``resume()`` undoes it.
    public func pause() {
        running.withLock { pid in
            guard let pid else { return }
            kill(pid, SIGSTOP)
            // The signal takes effect asynchronously: wait until the kernel shows it stopped.
            let deadline = Date().addingTimeInterval(2)
            while Date() < deadline {
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                if let close = stat.lastIndex(of: ")"), stat[close...].hasPrefix(") T") { break }
                usleep(5_000)
            }
        }
    }

    /// Lets a paused slapd run again (SIGCONT).
    public func resume() {
        running.withLock { pid in if let pid { kill(pid, SIGCONT) } }
    }

    /// Whether slapd is running.
    public var isRunning: Bool {
        running.withLock { pid in
            guard let running = pid else { return false }
            if Self.reap(running) {
                pid = nil
                return false
            }
            return true
        }
    }

    // MARK: - The slapd process

    /// Whether `pid` has exited (and is now reaped).
    private static func reap(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        return rc == pid || (rc < 0 && errno == ECHILD)
    }

    /// SIGTERM, up to 10 seconds' wait, then SIGKILL; returns once `pid` is reaped.
    private static func terminate(_ pid: pid_t) {
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if reap(pid) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// Stops the server and deletes its directory.
    public func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Data and configuration

    /// Adds entries (LDIF text) as the manager.
    public func add(ldif: String) throws {
        let file = directory + "/add-\(UUID().uuidString).ldif"
        try ldif.write(toFile: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try ldapAdd(file: file, as: Self.managerDN, password: Self.managerPassword)
    }

    /// The text of `ldap/dovecot-ldap.conf.ext` pointed at this server: `uris` becomes ``uri``,
    /// then each key of `overrides` replaces the key's line (and its continuation lines) or is
    /// added at the end; a nil value removes the key (`["dn": nil, "dnpass": nil]` binds
    /// anonymously).
    public func dovecotLDAPConf(overrides: [(key: String, value: String?)] = []) throws -> String {
        let shipped = try String(contentsOfFile: Self.repositoryRoot + "/ldap/dovecot-ldap.conf.ext", encoding: .utf8)
        return Self.rewrite(shipped, overrides: [("uris", uri)] + overrides)
    }

    /// Writes ``dovecotLDAPConf(overrides:)`` to `path` and returns `path`.
    @discardableResult
    public func writeDovecotLDAPConf(to path: String, overrides: [(key: String, value: String?)] = []) throws -> String {
        try dovecotLDAPConf(overrides: overrides).write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Replaces, removes or adds `key = value` lines in dovecot-ldap.conf.ext text.
    static func rewrite(_ text: String, overrides: [(key: String, value: String?)]) -> String {
        var lines = text.components(separatedBy: "\n")
        for (key, value) in overrides {
            var kept: [String] = []
            var replaced = false
            var skippingContinuation = false
            for line in lines {
                if skippingContinuation {
                    skippingContinuation = line.hasSuffix("\\")
                    continue
                }
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.hasPrefix(key),
                    trimmed.dropFirst(key.count).drop(while: { $0 == " " || $0 == "\t" }).first == "="
                {
                    skippingContinuation = line.hasSuffix("\\")
                    if let value, !replaced { kept.append("\(key) = \(value)") }
                    replaced = true
                    continue
                }
                kept.append(line)
            }
            if !replaced, let value { kept.append("\(key) = \(value)") }
            lines = kept
        }
        return lines.joined(separator: "\n")
    }

    /// A server's part in syncrepl replication.
    public enum Replication: Sendable, Equatable {
        /// The syncprov overlay on the database: consumers can follow it.
        case provider
        /// No data of its own: a refreshAndPersist copy of the provider's (retrying every
        /// second while the provider is away).
        case consumer(of: TestSlapd)

        public static func == (lhs: Replication, rhs: Replication) -> Bool {
            switch (lhs, rhs) {
            case (.provider, .provider): return true
            case (.consumer(let a), .consumer(let b)): return a === b
            default: return false
            }
        }
    }

    /// Turns this server into a syncrepl consumer of `provider` and waits until it has the
    /// provider's entries.
    private func replicate(from provider: TestSlapd) throws {
        let change = """
            dn: olcDatabase={1}mdb,cn=config
            changetype: modify
            add: olcSyncrepl
            olcSyncrepl: rid=001 provider=\(provider.uri) bindmethod=simple binddn="\(Self.managerDN)" credentials=\(Self.managerPassword) searchbase="\(Self.suffix)" type=refreshAndPersist retry="1 +" timeout=5
            -
            add: olcUpdateRef
            olcUpdateRef: \(provider.uri)

            """
        let file = directory + "/syncrepl.ldif"
        try change.write(toFile: file, atomically: false, encoding: .utf8)
        try TestProcess.runChecked("/usr/bin/ldapmodify", ["-x", "-H", uri, "-D", "cn=config", "-w", "config-secret", "-f", file])
        try waitForEntries(like: provider)
    }

    /// Waits (up to 60 s) until this server holds as many entries as `other`.
    public func waitForEntries(like other: TestSlapd) throws {
        func count(_ server: TestSlapd) -> Int? {
            guard let result = try? TestProcess.run(
                "/usr/bin/ldapsearch",
                ["-x", "-LLL", "-H", server.uri, "-D", Self.managerDN, "-w", Self.managerPassword, "-b", Self.suffix, "dn"])
            else { return nil }
            return result.standardOutput.components(separatedBy: "\n").filter { $0.hasPrefix("dn: ") }.count
        }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let wanted = count(other), wanted > 0, count(self) == wanted { return }
            usleep(200_000)
        }
        throw TestSlapdError(message: "the consumer on \(uri) did not catch up with \(other.uri) in 60 s")
    }

    private func configure(_ scratch: ScratchDirectory, provider: Bool = false) throws {
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/slapd.d", withIntermediateDirectories: true)
        let config = """
            dn: cn=config
            objectClass: olcGlobal
            cn: config
            olcPidFile: \(directory)/slapd.pid
            olcArgsFile: \(directory)/slapd.args

            dn: cn=module{0},cn=config
            objectClass: olcModuleList
            cn: module{0}
            olcModulePath: /usr/lib/ldap
            olcModuleLoad: back_mdb\(provider ? "\nolcModuleLoad: syncprov" : "")

            dn: cn=schema,cn=config
            objectClass: olcSchemaConfig
            cn: schema

            include: file:///etc/ldap/schema/core.ldif
            include: file:///etc/ldap/schema/cosine.ldif
            include: file:///etc/ldap/schema/nis.ldif
            include: file:///etc/ldap/schema/inetorgperson.ldif

            dn: olcDatabase={-1}frontend,cn=config
            objectClass: olcDatabaseConfig
            objectClass: olcFrontendConfig
            olcDatabase: {-1}frontend

            dn: olcDatabase={0}config,cn=config
            objectClass: olcDatabaseConfig
            olcDatabase: {0}config
            olcRootDN: cn=config
            olcRootPW: config-secret

            dn: olcDatabase={1}mdb,cn=config
            objectClass: olcDatabaseConfig
            objectClass: olcMdbConfig
            olcDatabase: {1}mdb
            olcSuffix: \(Self.suffix)
            olcDbDirectory: \(data)
            olcRootDN: \(Self.managerDN)
            olcRootPW: \(Self.managerPassword)
            olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
            olcAccess: {1}to * by * read
            olcLimits: dn.exact="\(Self.managerDN)" time=unlimited size=unlimited
            \(provider ? "\ndn: olcOverlay=syncprov,olcDatabase={1}mdb,cn=config\nobjectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\nolcOverlay: syncprov\n" : "")
            """
        let file = try scratch.write("config.ldif", config)
        try TestProcess.runChecked("/usr/sbin/slapadd", ["-n", "0", "-F", directory + "/slapd.d", "-l", file])
    }

    private func ldapAdd(file: String, as dn: String, password: String) throws {
        try TestProcess.runChecked("/usr/bin/ldapadd", ["-x", "-H", uri, "-D", dn, "-w", password, "-f", file])
    }

    // MARK: - Ports

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// The test slapd could not be set up.
public struct TestSlapdError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
