import Foundation
import Glibc

/// A throwaway PostgreSQL cluster for tests, from Debian's postgresql package.
///
/// `initdb` into a temporary directory, `trust` authentication for the superuser `postgres`,
/// listening on a free port of 127.0.0.1 and on a unix socket in the same directory. When the
/// tests run as root, the directory is given to the `postgres` system user and initdb, pg_ctl
/// and postgres run as that user (`runuser -u postgres --`).
///
/// Ordinary tests share one cluster per test process (``shared()``) and each create their own
/// database in it (``createDatabase(loading:)``), so they can run in parallel; tests that stop
/// the server start a dedicated cluster (``start(label:)``). Clusters are stopped and removed at
/// process exit, or earlier with ``destroy()``.
public final class TestPostgres: Sendable {
    /// The directory holding `data/`, the socket and `server.log`.
    public let directory: String
    /// The TCP port on 127.0.0.1.
    public let port: Int
    /// The directory with initdb, pg_ctl, postgres, psql.
    public let binDirectory: String
    /// The user the server runs as (`postgres` when the tests run as root), nil for the caller.
    public let serverUser: String?

    /// The superuser name (trust authentication, no password).
    public let superuser = "postgres"

    /// The data directory.
    public var dataDirectory: String { directory + "/data" }
    /// The server's log file.
    public var logPath: String { directory + "/server.log" }

    private init(directory: String, port: Int, binDirectory: String, serverUser: String?) {
        self.directory = directory
        self.port = port
        self.binDirectory = binDirectory
        self.serverUser = serverUser
    }

    // MARK: - Connection strings

    /// A libpq conninfo for `database` over TCP: `host=127.0.0.1 port=N dbname=DB user=postgres`.
    public func conninfo(database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(port) dbname=\(database) user=\(superuser)"
    }

    /// The same as a URI: `postgresql://postgres@127.0.0.1:N/DB`.
    public func uri(database: String = "postgres") -> String {
        "postgresql://\(superuser)@127.0.0.1:\(port)/\(database)"
    }

    // MARK: - Starting

    /// The cluster shared by the tests of this process, started on first use.
    public static func shared() async throws -> TestPostgres {
        try await SharedCluster.instance.cluster()
    }

    /// Starts a new cluster only for the caller (for tests that stop and start the server).
    /// Stop it with ``destroy()`` when done (it is also removed at process exit).
    public static func start(label: String = "homing-pg") async throws -> TestPostgres {
        try await runBlocking { try startBlocking(label: label) }
    }

    private static func startBlocking(label: String) throws -> TestPostgres {
        let bin = try findBinDirectory()
        var serverUser: String?
        var owner: (uid: uid_t, gid: gid_t)?
        if TestProcess.isRoot {
            guard let postgres = TestProcess.systemUser("postgres") else {
                throw TestProcessError(
                    message: "the tests run as root but there is no 'postgres' system user to run PostgreSQL as "
                        + "(run scripts/install-deps.sh test)")
            }
            serverUser = "postgres"
            owner = postgres
        }
        let scratch = try ScratchDirectory(label)
        do {
            if let owner { try TestProcess.chownRecursively(scratch.path, uid: owner.uid, gid: owner.gid) }
            try TestProcess.runChecked(
                bin + "/initdb",
                ["-D", scratch.path + "/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C",
                 "--no-sync", "--no-instructions"],
                asUser: serverUser, workingDirectory: scratch.path)
        } catch {
            scratch.remove()
            throw error
        }
        return try startOnFreePort(scratch, binDirectory: bin, serverUser: serverUser, what: "PostgreSQL")
    }

    /// Starts the cluster in `scratch` on a free loopback port and registers it for removal at
    /// exit; removes `scratch` when it does not start. A port that was free a moment ago may be
    /// taken by a parallel test: a few are tried.
    private static func startOnFreePort(
        _ scratch: ScratchDirectory, binDirectory: String, serverUser: String?, what: String
    ) throws -> TestPostgres {
        var lastError: Error?
        for _ in 0..<5 {
            let cluster = TestPostgres(
                directory: scratch.path, port: freeLoopbackPort(), binDirectory: binDirectory, serverUser: serverUser)
            do {
                try cluster.startServerBlocking()
                ExitCleanup.shared.add(cluster) { cluster.destroyBlocking() }
                return cluster
            } catch {
                lastError = error
            }
        }
        scratch.remove()
        throw lastError ?? TestProcessError(message: "\(what) did not start")
    }

    /// Starts a streaming-replication standby of this cluster: a base backup taken with
    /// `pg_basebackup -R` (which writes `standby.signal` and `primary_conninfo`) into a new
    /// directory, started as a hot standby on a port of its own. Read-only; it follows the
    /// primary until the primary stops. Stop it with ``destroy()`` (also removed at exit).
    public func startStandby(label: String = "homing-pg-standby") async throws -> TestPostgres {
        try await Self.runBlocking { try self.startStandbyBlocking(label: label) }
    }

    private func startStandbyBlocking(label: String) throws -> TestPostgres {
        let scratch = try ScratchDirectory(label)
        do {
            if let serverUser, let owner = TestProcess.systemUser(serverUser) {
                try TestProcess.chownRecursively(scratch.path, uid: owner.uid, gid: owner.gid)
            }
            try TestProcess.runChecked(
                binDirectory + "/pg_basebackup",
                ["-D", scratch.path + "/data", "-h", "127.0.0.1", "-p", String(port), "-U", superuser, "-R",
                 "-X", "stream", "--checkpoint=fast", "--no-sync"],
                asUser: serverUser, workingDirectory: scratch.path)
        } catch {
            scratch.remove()
            throw error
        }
        return try Self.startOnFreePort(
            scratch, binDirectory: binDirectory, serverUser: serverUser, what: "the PostgreSQL standby")
    }

    /// Where Debian's PostgreSQL binaries are: `HOMING_PG_BINDIR`, or the newest
    /// /usr/lib/postgresql/<version>/bin.
    public static func findBinDirectory() throws -> String {
        if let override = ProcessInfo.processInfo.environment["HOMING_PG_BINDIR"] { return override }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { Int($0) }
            .sorted(by: >)
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: bin + "/initdb") { return bin }
        }
        throw TestProcessError(
            message: "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): "
                + "run scripts/install-deps.sh test")
    }

    // MARK: - Stopping and starting again

    /// Stops the server (fast shutdown: connections are cut). The data stays.
    public func stop() async throws {
        try await Self.runBlocking { try self.stopServerBlocking() }
    }

    /// Starts the server again on the same data directory and port.
    public func start() async throws {
        try await Self.runBlocking { try self.startServerBlocking() }
    }

    /// Stops the server and removes its directory.
    public func destroy() async {
        await Self.runBlocking { self.destroyBlocking() }
        ExitCleanup.shared.remove(self)
    }

    private func startServerBlocking() throws {
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off "
            + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        let result = try TestProcess.run(
            binDirectory + "/pg_ctl",
            ["-D", dataDirectory, "-l", logPath, "-o", options, "-w", "-t", "60", "start"],
            asUser: serverUser, workingDirectory: directory)
        guard result.succeeded else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw TestProcessError(
                message: "PostgreSQL did not start on port \(port): \(result.standardOutput)\(result.standardError)\n"
                    + "server.log:\n\(log.suffix(2000))")
        }
    }

    private func stopServerBlocking() throws {
        try TestProcess.runChecked(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"],
            asUser: serverUser, workingDirectory: directory)
    }

    fileprivate func destroyBlocking() {
        _ = try? TestProcess.run(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"],
            asUser: serverUser, workingDirectory: "/")
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - SQL

    /// Runs SQL with psql (`ON_ERROR_STOP`) in `database` and returns its output (unaligned,
    /// tuples only, `|` between columns).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Self.runBlocking {
            try TestProcess.runChecked(
                self.binDirectory + "/psql",
                ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(self.port),
                 "-U", self.superuser, "-d", database, "-f", "-"],
                input: sql
            ).standardOutput
        }
    }

    /// Loads SQL files into `database` with psql.
    public func load(_ files: [String], database: String) async throws {
        for file in files {
            _ = try await Self.runBlocking {
                try TestProcess.runChecked(
                    self.binDirectory + "/psql",
                    ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(self.port),
                     "-U", self.superuser, "-d", database, "-f", file])
            }
        }
    }

    /// Creates a fresh database (a unique name unless given) and loads `files` into it.
    /// Returns its name.
    @discardableResult
    public func createDatabase(_ name: String? = nil, loading files: [String] = []) async throws -> String {
        let database = name ?? "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await psql("CREATE DATABASE \"\(database)\";")
        try await load(files, database: database)
        return database
    }

    // MARK: - Helpers

    /// Runs blocking work on its own thread, so that the cooperative pool is not held up.
    static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }.start()
        }
    }

    static func runBlocking(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread {
                body()
                continuation.resume()
            }.start()
        }
    }

}

/// Starts the shared cluster once, even when many tests ask at the same time.
private actor SharedCluster {
    static let instance = SharedCluster()
    private var starting: Task<TestPostgres, Error>?

    func cluster() async throws -> TestPostgres {
        if let starting { return try await starting.value }
        let task = Task { try await TestPostgres.start(label: "homing-pg-shared") }
        starting = task
        return try await task.value
    }
}
