import Foundation
import Glibc
import Synchronization

/// The `homing` executable built next to the test bundle, run as a real process.
public enum HomingBinary {
    /// Path of the `homing` binary: `HOMING_BINARY`, or next to the running test executable.
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["HOMING_BINARY"] { return override }
        var directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        // swift test runs `.build/<triple>/debug/HomingPackageTests.xctest` (a file on Linux).
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("homing").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return ".build/debug/homing"
    }

    /// Result of running `homing` to completion.
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs `homing ARGS...` and waits for it (for `homing user`, `homing config`).
    /// The waiting happens on a thread of its own, never on Swift's cooperative pool.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Result {
        try await runOnThread {
            let result = try TestProcess.run(path, arguments, environment: environment)
            return Result(status: result.status, standardOutput: result.standardOutput, standardError: result.standardError)
        }
    }
}

/// Runs blocking work on a new thread and awaits its result.
public func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }.start()
    }
}

/// A running `homing serve`: started on a configuration, waited for until it accepts
/// connections, stopped with SIGTERM.
public final class HomingServerProcess: Sendable {
    /// The process id.
    public let pid: pid_t
    /// Where the server's log (standard error) goes.
    public let logPath: String
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `homing serve -c config` and waits until the unix socket and/or the port accept
    /// connections, or the process exits.
    /// `environment` adds variables to the test process's own.
    public init(
        config: String, logPath: String, waitForUnixSocket socket: String? = nil, waitForPort port: Int? = nil,
        environment: [String: String] = [:]
    ) async throws {
        self.logPath = logPath
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { _, new in new }
        pid = try TestProcess.spawn(
            HomingBinary.path, ["serve", "-c", config], standardOutput: logPath + ".out", standardError: logPath,
            environment: environment.isEmpty ? nil : variables)
        RunningServers.add(pid)
        // Starting takes a fraction of a second; the bound only has to outlast a machine whose
        // two cores run the whole suite (dozens of servers, PostgreSQL, slapd, Postfix) at once.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let status = exited() {
                throw TestClientError(message: "homing serve exited with \(status): \(self.log)")
            }
            var ready = true
            if let socket, (try? await LMTPTestClient.connect(unixPath: socket)) == nil { ready = false }
            if let port, (try? await LMTPTestClient.connect(port: port)) == nil { ready = false }
            if ready { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        throw TestClientError(message: "homing serve did not start listening in 120 s: \(self.log)")
    }

    /// The server's log so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits until the log holds a line for which `matches` is true (the server logs some
    /// lines just after it starts answering); returns the log, which the caller checks.
    @discardableResult
    public func waitForLog(timeout: Duration = .seconds(30), _ matches: (Substring) -> Bool) async -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = log
            if text.split(separator: "\n").contains(where: matches) || ContinuousClock.now >= deadline { return text }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The exit status once the process has ended (reaping it), `nil` while it runs.
    public func exited() -> Int32? {
        exitStatus.withLock { status in
            if let status { return status }
            var waitStatus: Int32 = 0
            guard waitpid(pid, &waitStatus, WNOHANG) == pid else { return nil }
            RunningServers.remove(pid)
            let signal = waitStatus & 0x7f
            status = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
            return status
        }
    }

    /// A `/proc/<pid>/status` field in kB (`VmRSS`, `VmHWM`).
    public func memoryKB(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// SIGTERM, then waits for the exit (SIGKILL after 20 s). Returns the exit status.
    @discardableResult
    public func stop() async -> Int32? {
        if exited() == nil {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(20)
            while exited() == nil && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if exited() == nil {
                kill(pid, SIGKILL)
                while exited() == nil { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
        return exited()
    }
}

/// The `homing serve` processes tests started and have not seen end: killed when the test
/// process exits, so that a server whose test's `defer { Task { await server.stop() } }` had
/// not run yet is not left behind (holding its port and directory).
enum RunningServers {
    private static let pids = Mutex<Set<pid_t>>([])
    private static let killAtExit: Void = {
        atexit { RunningServers.killAll() }
    }()

    static func add(_ pid: pid_t) {
        _ = killAtExit
        pids.withLock { _ = $0.insert(pid) }
    }

    static func remove(_ pid: pid_t) {
        pids.withLock { _ = $0.remove(pid) }
    }

    static func killAll() {
        for pid in pids.withLock({ $0 }) { kill(pid, SIGKILL) }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a test server to listen on.
///
/// Drawn at random below the kernel's ephemeral range (32768 and up on Linux), so that the
/// source port of some outgoing connection (a test client, a PostgreSQL client) cannot take it
/// between this check and the server's bind; checked by binding it.
public func freeLoopbackPort() -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_000)
        if loopbackPortIsFree(port) { return port }
    }
    // Crowded: let the kernel choose.
    return loopbackPortIsFree(0, chosen: true)
}

/// Binds 127.0.0.1:`port` (SO_REUSEADDR, as the servers do) and releases it; with `chosen`,
/// returns the port the kernel picked for port 0.
private func loopbackPortIsFree(_ port: Int) -> Bool {
    loopbackPortIsFree(port, chosen: false) != 0
}

private func loopbackPortIsFree(_ port: Int, chosen: Bool) -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var reuse: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return 0 }
    guard chosen else { return port }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
