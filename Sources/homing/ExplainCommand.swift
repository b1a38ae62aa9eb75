import ArgumentParser
import Foundation
import HomingApp

/// `homing explain`: what would happen to a message for a recipient, step by step.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Trace the delivery of a message to a recipient, step by step, storing and sending nothing.",
        discussion: """
            Walks the path LMTP delivery takes: how the address is normalised \
            (recipient_delimiter, auth_username_format), which userdb blocks answered or were \
            skipped and why, the user's fields, mail location, home and uid/gid and whether the \
            directories exist with the right owners, the quota rules, usage and whether this \
            message would be refused, what each Sieve script would do, and the folder and file \
            name the message would get, or the LMTP reply the recipient would get. Each fact \
            names its source (file:line, userdb field, default). Without MESSAGE a small test \
            message is used (--size pads it). -f is the envelope sender, as for sendmail, \
            dovecot-lda and sieve-test; the output format is --format (not -f, unlike homing \
            user). Exit status: 0 delivered, 67 no such user, 75 deferred, 77 refused.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .customShort("f"), help: "Envelope sender (<> or empty for the null sender).")
    var sender = "sender@example.com"

    @Option(name: .customShort("a"), help: "Original recipient (LMTP's ORCPT).")
    var originalRecipient: String?

    @Option(name: .customLong("size"), help: "Without MESSAGE: pad the test message to about this many bytes.")
    var size: Int?

    @Option(name: .customLong("format"), help: "Output: text or json.")
    var format: ExplainFormat = .text

    @Argument(help: "The recipient's address, as Postfix would send it over LMTP.")
    var address: String

    @Argument(help: "The message (RFC 5322, LF or CRLF line ends).")
    var message: String?

    func run() async throws {
        var bytes: [UInt8]?
        if let message {
            guard let data = FileManager.default.contents(atPath: message) else {
                printError("Fatal: \(message): cannot read the message")
                throw ExitCode(ExitStatus.temporaryFailure)
            }
            bytes = Array(data)
        } else if let size, size > 0 {
            var padded = Array("From: \(sender)\nTo: \(address)\nSubject: homing explain\n\n".utf8)
            while padded.count < size { padded += Array(repeating: UInt8(ascii: "x"), count: min(76, size - padded.count)) + [10] }
            bytes = padded
        }
        let nullSender = sender == "<>" ? "" : sender
        let status = await CommandRunner.withRuntime(configuration: options.config) { runtime in
            let explanation = await DeliveryExplainer(runtime: runtime).explain(
                address: address, sender: nullSender, originalRecipient: originalRecipient, message: bytes)
            print(format == .json ? explanation.json : explanation.text, terminator: "")
            return explanation.exitStatus
        }
        try finish(with: status)
    }
}

/// `--format`: how `homing explain` prints.
enum ExplainFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
