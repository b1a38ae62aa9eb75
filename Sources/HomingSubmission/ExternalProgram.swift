#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program without a shell and without input (a quota warning script): its words as
/// given, as another user when Homing runs as root (util-linux's `setpriv`, as sendmail is
/// run), bounded by a timeout. Blocking: call it from a thread pool.
public enum ExternalProgram {
    /// How the program ended.
    public enum Outcome: Sendable, Hashable {
        /// It exited with this status; `output` is the start of its standard output and error.
        case exited(status: Int32, output: String)
        /// A signal ended it.
        case signalled(Int32, output: String)
        /// It ran past the timeout and was killed.
        case timedOut
    }

    /// Runs `arguments` (`arguments[0]` the program: a path, or a name looked up in `PATH`) with
    /// its standard input at end of file. With `runAs` set and Homing running as root, the
    /// program runs with that uid and gid and no supplementary groups; uid 0 is refused.
    /// - Throws: `SubmissionError` when the program cannot be started.
    public static func run(
        _ arguments: [String], runAs: (uid: UInt32, gid: UInt32)?, timeout: Duration = .seconds(30)
    ) throws(SubmissionError) -> Outcome {
        guard let program = arguments.first, !program.isEmpty else {
            throw SubmissionError(temporary: false, "no program to run")
        }
        if arguments.contains(where: { $0.utf8.contains(0) }) {
            throw SubmissionError(temporary: false, "refusing to pass an argument with a NUL byte to \(program)")
        }
        var argv = arguments
        if geteuid() == 0 {
            guard let runAs else {
                throw SubmissionError(temporary: false, "refusing to run \(program) as root: no user to run it as")
            }
            guard runAs.uid != 0 else { throw SubmissionError(temporary: false, "refusing to run \(program) as root (uid 0)") }
            argv = [SendmailSubmitter.setprivPath, "--reuid=\(runAs.uid)", "--regid=\(runAs.gid)", "--clear-groups", "--"]
                + arguments
        }
        var reader = try OutgoingMessageReader(OutgoingMessage(prefix: []))
        let process = try SpawnedProcess(argv)
        var run = SendmailRun(process: process, deadline: ContinuousClock.now.advanced(by: timeout))
        let status = run.run(reader: &reader)
        let output = String(decoding: run.output, as: UTF8.self)
        switch status {
        case .exited(let code): return .exited(status: code, output: output)
        case .signalled(let signal): return .signalled(signal, output: output)
        case .timedOut: return .timedOut
        case .failed(let error): throw error
        }
    }
}
