#if canImport(Glibc)
    import Glibc
#endif

/// Submits mail by running `sendmail_path` (default `/usr/sbin/sendmail`) as
/// `<command> -i -f <sender> -- <recipients...>`, the message on its standard input (LF line
/// ends), as Dovecot does. The null sender is passed as `-f <>`.
///
/// The program is started with `posix_spawn` (no shell; the command is split on spaces, so
/// `sendmail_path = /usr/sbin/sendmail -oi -t` style extra arguments work). Its standard output
/// and error are captured (up to 4 KiB) for the error message. Exit status 0 is success,
/// 75 (`EX_TEMPFAIL`) or death by a signal a temporary failure, anything else permanent.
/// The whole run is bounded by `timeout`; a program still running then is killed.
public struct SendmailSubmitter: MailSubmitter {
    /// The program and its leading arguments.
    public let arguments: [String]
    /// The longest a submission may take.
    public let timeout: Duration
    /// The user and group the program runs as, when Homing runs as root (through
    /// util-linux's `setpriv`, as Dovecot runs sendmail as the mail user); `nil` runs it as
    /// the Homing process.
    public private(set) var runAs: (uid: UInt32, gid: UInt32)?

    /// util-linux's `setpriv`, which drops to the user before running sendmail.
    public static let setprivPath = "/usr/bin/setpriv"

    /// Dovecot's default `sendmail_path`.
    public static let defaultCommand = "/usr/sbin/sendmail"

    /// `EX_TEMPFAIL` from sysexits.h.
    public static let temporaryFailureStatus: Int32 = 75

    /// Creates a submitter for the `sendmail_path` value `command`.
    public init(command: String = Self.defaultCommand, timeout: Duration = .seconds(120)) {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        self.arguments = words.isEmpty ? [Self.defaultCommand] : words
        self.timeout = timeout
    }

    /// The same submitter, running the program as `uid`/`gid` when Homing runs as root.
    public func running(asUID uid: UInt32, gid: UInt32) -> SendmailSubmitter {
        var copy = self
        copy.runAs = (uid, gid)
        return copy
    }

    /// The full argument vector for a submission.
    public func argumentVector(from sender: String, to recipients: [String]) -> [String] {
        var prefix: [String] = []
        if let runAs, geteuid() == 0 {
            prefix = [Self.setprivPath, "--reuid=\(runAs.uid)", "--regid=\(runAs.gid)", "--clear-groups", "--"]
        }
        return prefix + arguments + ["-i", "-f", sender.isEmpty ? "<>" : sender, "--"] + recipients
    }

    /// Runs the program and streams `message` to it. See the type's documentation.
    public func submit(_ message: OutgoingMessage, from sender: String, to recipients: [String])
        throws(SubmissionError)
    {
        if recipients.isEmpty { throw SubmissionError(temporary: false, "no recipients to send to") }
        for word in [sender] + recipients where word.utf8.contains(0) || word.hasPrefix("-") {
            throw SubmissionError(temporary: false, "refusing to pass the address '\(word)' to \(arguments[0])")
        }
        var reader = try OutgoingMessageReader(message)
        let argv = argumentVector(from: sender, to: recipients)
        let process = try SpawnedProcess(argv)
        var outcome = SendmailRun(process: process, deadline: ContinuousClock.now.advanced(by: timeout))
        let status = outcome.run(reader: &reader)
        let output = String(decoding: outcome.output, as: UTF8.self).trimmingTrailingWhitespace()
        let program = arguments[0]
        let detail = output.isEmpty ? "" : ": \(output)"
        switch status {
        case .timedOut:
            throw SubmissionError(temporary: true, "\(program) did not finish within \(timeout) and was killed\(detail)")
        case .failed(let error):
            throw error
        case .signalled(let signal):
            throw SubmissionError(temporary: true, "\(program) was killed by signal \(signal)\(detail)")
        case .exited(0):
            if let writeError = outcome.writeError {
                throw SubmissionError(temporary: true, "\(program) exited before reading the whole message: \(writeError)")
            }
        case .exited(let code):
            throw SubmissionError(
                temporary: code == Self.temporaryFailureStatus, "\(program) exited with status \(code)\(detail)")
        }
    }
}

extension String {
    fileprivate func trimmingTrailingWhitespace() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
