import Foundation
import HomingSubmission
import Testing

/// A temporary directory with a stand-in sendmail that records its arguments and input.
private struct FakeSendmail {
    let directory: String
    var script: String { directory + "/sendmail" }
    /// Run through /bin/sh: executing a script just written can fail with ETXTBSY while a
    /// parallel test's fork still holds the writer's descriptor.
    var command: String { "/bin/sh " + script }
    var arguments: [String] {
        ((try? String(contentsOfFile: directory + "/argv", encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
    var input: String { (try? String(contentsOfFile: directory + "/stdin", encoding: .utf8)) ?? "" }

    /// `body` is the shell code run after recording (e.g. `exit 75`).
    init(_ body: String = "exit 0") throws {
        directory = NSTemporaryDirectory() + "fake-sendmail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let text = """
            #!/bin/sh
            for a in "$@"; do printf '%s\\n' "$a"; done > '\(directory)/argv'
            cat > '\(directory)/stdin'
            \(body)

            """
        try text.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("sendmail submitter")
struct SendmailSubmitterTests {
    @Test("runs <command> -i -f <sender> -- <recipients> and streams prefix then file from the offset, LF line ends")
    func argumentsAndInput() throws {
        let fake = try FakeSendmail()
        defer { fake.remove() }
        let file = fake.directory + "/message"
        try "SKIPPED\r\nSubject: hi\r\n\r\nbody\r\n.\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        let message = OutgoingMessage(prefix: Array("X-Sieve: Homing Sieve\r\n".utf8), bodyFile: file, bodyOffset: 9)
        try SendmailSubmitter(command: fake.command).submit(message, from: "sender@example.org", to: ["carol@example.org", "dave@example.org"])
        #expect(fake.arguments == ["-i", "-f", "sender@example.org", "--", "carol@example.org", "dave@example.org"])
        #expect(fake.input == "X-Sieve: Homing Sieve\nSubject: hi\n\nbody\n.\n")
    }

    @Test("the null sender is passed as -f <> and extra arguments in sendmail_path are kept")
    func nullSenderAndExtraArguments() throws {
        let fake = try FakeSendmail()
        defer { fake.remove() }
        try SendmailSubmitter(command: "\(fake.command) -odi  -X x").submit(OutgoingMessage(prefix: Array("a\n".utf8)), from: "", to: ["s@x"])
        #expect(fake.arguments == ["-odi", "-X", "x", "-i", "-f", "<>", "--", "s@x"])
        #expect(SendmailSubmitter(command: "  ").arguments == ["/usr/sbin/sendmail"])
    }

    @Test("a large message is streamed completely")
    func largeMessage() throws {
        let fake = try FakeSendmail()
        defer { fake.remove() }
        let file = fake.directory + "/big"
        let line = String(repeating: "x", count: 99) + "\n"
        try String(repeating: line, count: 20_000).write(toFile: file, atomically: true, encoding: .utf8)
        try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: [], bodyFile: file), from: "a@x", to: ["b@x"])
        #expect(fake.input.utf8.count == 2_000_000)
    }

    @Test("the program inherits standard input, output and error, not a descriptor the daemon opened without O_CLOEXEC")
    func inheritsOnlyStandardDescriptors() throws {
        // The descriptors of the shell that runs the stand-in (its own script file aside).
        let fake = try FakeSendmail("ls /proc/$$/fd > \"$(dirname \"$0\")/fds\"")
        defer { fake.remove() }
        let file = open(fake.script, O_RDONLY)
        defer { close(file) }
        // Far above anything the shell opens itself, and without FD_CLOEXEC: a child that is
        // not told to close it has it.
        let held = fcntl(file, F_DUPFD, 300)
        defer { close(held) }
        try #require(held >= 300)
        try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: Array("a\n".utf8)), from: "a@x", to: ["b@x"])
        let listed = ((try? String(contentsOfFile: fake.directory + "/fds", encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(["0", "1", "2"].allSatisfy { listed.contains($0) }, "\(listed)")
        #expect(!listed.contains(Substring(String(held))), "the child inherited descriptor \(held): \(listed)")
    }

    @Test("exit status 75 is a temporary failure carrying the output")
    func temporaryFailure() throws {
        let fake = try FakeSendmail("echo 'queue full' >&2; exit 75")
        defer { fake.remove() }
        #expect(throws: SubmissionError(temporary: true, "/bin/sh exited with status 75: queue full")) {
            try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: Array("a\n".utf8)), from: "a@x", to: ["b@x"])
        }
    }

    @Test("another non-zero status is a permanent failure")
    func permanentFailure() throws {
        let fake = try FakeSendmail("echo 'No such user' ; exit 67")
        defer { fake.remove() }
        #expect(throws: SubmissionError(temporary: false, "/bin/sh exited with status 67: No such user")) {
            try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: Array("a\n".utf8)), from: "a@x", to: ["b@x"])
        }
    }

    @Test("a program that does not exist is a temporary failure")
    func missingProgram() {
        #expect(throws: SubmissionError(temporary: true, "cannot run /nonexistent/sendmail: No such file or directory")) {
            try SendmailSubmitter(command: "/nonexistent/sendmail").submit(OutgoingMessage(prefix: [65]), from: "a@x", to: ["b@x"])
        }
    }

    @Test("a program that exits 0 without reading its input is an error, not a success")
    func unreadInput() throws {
        let directory = NSTemporaryDirectory() + "fake-sendmail-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/big"
        try String(repeating: "y", count: 4_000_000).write(toFile: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: SubmissionError.self) {
            try SendmailSubmitter(command: "/bin/true").submit(OutgoingMessage(prefix: [], bodyFile: file), from: "a@x", to: ["b@x"])
        }
        #expect(error?.isTemporary == true)
        #expect(error?.message.hasPrefix("/bin/true exited before reading the whole message: ") == true)
    }

    @Test("a program that hangs is killed after the timeout")
    func timeout() throws {
        let fake = try FakeSendmail("sleep 30")
        defer { fake.remove() }
        let started = ContinuousClock.now
        let error = #expect(throws: SubmissionError.self) {
            try SendmailSubmitter(command: fake.command, timeout: .milliseconds(300))
                .submit(OutgoingMessage(prefix: Array("a\n".utf8)), from: "a@x", to: ["b@x"])
        }
        #expect(error?.isTemporary == true)
        #expect(error?.message.contains("did not finish within") == true, "\(String(describing: error))")
        // Killed after the timeout; loose because the suite shares two cores.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("a missing message file fails before the program runs; addresses starting with '-' are refused")
    func badInput() throws {
        let fake = try FakeSendmail()
        defer { fake.remove() }
        #expect(throws: SubmissionError(temporary: true, "cannot open the message file /nonexistent/m: No such file or directory")) {
            try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: [], bodyFile: "/nonexistent/m"), from: "a@x", to: ["b@x"])
        }
        #expect(throws: SubmissionError(temporary: false, "refusing to pass the address '-oQ/tmp' to /bin/sh")) {
            try SendmailSubmitter(command: fake.command).submit(OutgoingMessage(prefix: [65]), from: "a@x", to: ["-oQ/tmp"])
        }
        #expect(fake.arguments == [])
    }
}
