import Foundation
import Glibc

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
    public static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        async let outData = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let errData = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (o, e) = await (outData, errData)
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: o, as: UTF8.self),
            standardError: String(decoding: e, as: UTF8.self))
    }
}

/// A running `homing serve`: started on a configuration, waited for until it accepts
/// connections, stopped with SIGTERM.
public final class HomingServerProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; Process itself is thread-safe for the
    // calls made here (terminate, waitUntilExit, processIdentifier).
    public let process: Process
    /// Where the server's log (standard error) goes.
    public let logPath: String

    /// Starts `homing serve -c config` and waits until `readyCheck` succeeds (e.g. a socket
    /// accepts) or the process exits.
    public init(config: String, logPath: String, waitForUnixSocket socket: String? = nil, waitForPort port: Int? = nil)
        async throws
    {
        self.logPath = logPath
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HomingBinary.path)
        process.arguments = ["serve", "-c", config]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning {
                throw TestClientError(message: "homing serve exited with \(process.terminationStatus): \(self.log)")
            }
            var ready = true
            if let socket, (try? await LMTPTestClient.connect(unixPath: socket)) == nil { ready = false }
            if let port, (try? await LMTPTestClient.connect(port: port)) == nil { ready = false }
            if ready { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw TestClientError(message: "homing serve did not start listening in 30 s: \(self.log)")
    }

    /// The server's log so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// A `/proc/<pid>/status` field in kB (`VmRSS`, `VmHWM`).
    public func memoryKB(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// SIGTERM, then waits for the exit.
    public func stop() async {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
