import ArgumentParser
import HomingApp

/// `homing deliver`: local delivery as dovecot-lda does it, one message on standard input, for
/// Postfix's `mailbox_command` and `pipe(8)` transports.
struct DeliverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Deliver one message from standard input, as dovecot-lda does.",
        discussion: """
            Options (dovecot-lda's): -d USER (look USER up in the userdb; without it, the \
            invoking Unix user), -f SENDER, -a ORIGINAL_RECIPIENT, -r FINAL_RECIPIENT, -m MAILBOX \
            (deliver into it, INBOX when it does not exist), -e (rejections to standard error \
            with exit status 77 instead of a rejection sent to the sender), -p PATH (the message \
            from a file), -c CONFIG, -o key=value (override a setting; plugin/key=value for a \
            plugin { } setting). protocol lda { } applies. Exit status: 0 delivered (or \
            rejected with a report sent), 64 bad usage, 67 no such user, 75 try again later, 77 \
            refused for good (-e).
            """)

    @Argument(parsing: .captureForPassthrough, help: "dovecot-lda's options.")
    var arguments: [String] = []

    func run() async throws {
        try finish(with: await LDARunner.run(arguments: arguments, defaultConfigPath: ConfigOption.defaultPath))
    }
}
