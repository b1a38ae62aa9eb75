import CHomingLinux
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
        let inPath = input == nil ? "/dev/null" : try scratch.write("stdin", input ?? "")
        if let workingDirectory {
            // posix_spawn_file_actions_addchdir_np is not visible from Swift: let env(1) change directory.
            launchArguments = ["-C", workingDirectory, launchPath] + launchArguments
            launchPath = "/usr/bin/env"
        }
        let pid = try spawn(
            launchPath, launchArguments, standardInput: inPath, standardOutput: outPath, standardError: errPath,
            environment: environment)
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 {
            guard errno == EINTR else {
                throw TestProcessError(message: "waitpid for \(commandLine): \(String(cString: strerror(errno)))")
            }
        }
        let signal = waitStatus & 0x7f
        let status = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(commandLine: commandLine, status: status, standardOutput: out, standardError: err)
    }

    /// Starts `executable` without waiting for it: standard input, output and error are the
    /// given files (output files are created, and truncated unless `appending`). The child has
    /// no other descriptor of the test process. The caller reaps the child with `waitpid`.
    ///
    /// posix_spawn rather than Foundation's Process, whose child reaping on Linux can miss
    /// children when several are started at once from different threads. The child starts
    /// with no blocked signals and default handlers (the test runner's threads may block some,
    /// and servers such as postgres or homing need them).
    public static func spawn(
        _ executable: String, _ arguments: [String], standardInput: String = "/dev/null",
        standardOutput: String, standardError: String, appending: Bool = false, environment: [String: String]? = nil
    ) throws -> pid_t {
        let launchPath = executable
        let launchArguments = arguments
        let commandLine = ([launchPath] + launchArguments).joined(separator: " ")
        let inPath = standardInput
        let outPath = standardOutput
        let errPath = standardError
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        let outputFlags = O_WRONLY | O_CREAT | (appending ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, outputFlags, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, outputFlags, 0o644)
        // Only those three: tests running in parallel hold client sockets and files the child
        // must not keep open (a server would go on seeing a closed test client as connected).
        _ = homing_spawn_close_from(&actions, 3)
        // The child starts with no blocked signals and default handlers (the test runner's
        // threads may block some, and servers such as postgres need them).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var environmentStrings: [String] = []
        if let environment {
            environmentStrings = environment.map { "\($0.key)=\($0.value)" }
        } else {
            environmentStrings = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([launchPath] + launchArguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environmentStrings.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, launchPath, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw TestProcessError(message: "cannot start \(commandLine): \(String(cString: strerror(spawned)))")
        }
        return pid
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
