import Foundation
import Glibc

/// Runs helper programs for tests (initdb, psql, slapadd, ...) to completion.
///
/// Output goes to temporary files rather than pipes, so a program that leaves a daemon behind
/// holding its standard output (`pg_ctl start`, `slapd`) cannot make the caller wait forever.
/// Calls block the calling thread: use them from tests or from `Task.detached`, not from an
/// event loop.
public enum TestProcess {
    /// What a finished program left behind.
    public struct Result: Sendable {
        /// The command as run, for messages.
        public var commandLine: String
        /// The exit status (or 128 + signal number when it was killed by a signal).
        public var status: Int32
        public var standardOutput: String
        public var standardError: String

        /// Whether the program exited with status 0.
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` with `arguments`, optionally as the system user `user` (through
    /// `runuser -u USER --`, only meaningful when the tests run as root), feeding `input` to its
    /// standard input, and waits for it.
    ///
    /// Throws ``TestProcessError`` when the program cannot be started at all; a non-zero exit is
    /// returned in the result (see ``runChecked(_:_:asUser:input:environment:workingDirectory:)``).
    public static func run(
        _ executable: String, _ arguments: [String], asUser user: String? = nil, input: String? = nil,
        environment: [String: String]? = nil, workingDirectory: String? = nil
    ) throws -> Result {
        var launchPath = executable
        var launchArguments = arguments
        if let user {
            launchPath = "/usr/sbin/runuser"
            launchArguments = ["-u", user, "--", executable] + arguments
        }
        let commandLine = ([launchPath] + launchArguments).joined(separator: " ")
        let scratch = try ScratchDirectory("homing-process")
        defer { scratch.remove() }
        let outPath = scratch.file("stdout")
        let errPath = scratch.file("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launchPath)
        process.arguments = launchArguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let outHandle: FileHandle
        let errHandle: FileHandle
        do {
            outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        } catch {
            throw TestProcessError(message: "\(commandLine): cannot create output files: \(error)")
        }
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        do {
            try process.run()
        } catch {
            throw TestProcessError(message: "cannot start \(commandLine): \(error)")
        }
        if let input {
            let writer = inputPipe.fileHandleForWriting
            try? writer.write(contentsOf: Data(input.utf8))
            try? writer.close()
        }
        process.waitUntilExit()
        var status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal { status += 128 }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(commandLine: commandLine, status: status, standardOutput: out, standardError: err)
    }

    /// Like ``run(_:_:asUser:input:environment:workingDirectory:)``, but a non-zero exit throws a
    /// ``TestProcessError`` quoting the command and its output.
    @discardableResult
    public static func runChecked(
        _ executable: String, _ arguments: [String], asUser user: String? = nil, input: String? = nil,
        environment: [String: String]? = nil, workingDirectory: String? = nil
    ) throws -> Result {
        let result = try run(
            executable, arguments, asUser: user, input: input, environment: environment,
            workingDirectory: workingDirectory)
        guard result.succeeded else {
            throw TestProcessError(
                message: "\(result.commandLine) exited with status \(result.status)\n"
                    + "stdout: \(result.standardOutput)\nstderr: \(result.standardError)")
        }
        return result
    }

    /// Whether the tests run as root (then servers are started as an unprivileged user).
    public static var isRoot: Bool { geteuid() == 0 }

    /// The uid and gid of a system user, or nil when there is no such user.
    public static func systemUser(_ name: String) -> (uid: uid_t, gid: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_gid)
    }

    /// Changes the owner of `path` and everything below it (for servers run as another user).
    public static func chownRecursively(_ path: String, uid: uid_t, gid: gid_t) throws {
        guard lchown(path, uid, gid) == 0 else {
            throw TestProcessError(message: "chown \(path): \(String(cString: strerror(errno)))")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return }
        for case let relative as String in enumerator {
            let full = path + "/" + relative
            guard lchown(full, uid, gid) == 0 else {
                throw TestProcessError(message: "chown \(full): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A helper program could not be run, or failed.
public struct TestProcessError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
