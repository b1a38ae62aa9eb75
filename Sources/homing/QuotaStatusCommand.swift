import ArgumentParser
import HomingApp

/// `homing quota-status -p postfix`: Dovecot's quota-status policy service on standard input
/// and output.
struct QuotaStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota-status",
        abstract: "Answer Postfix policy requests about recipients' quota on standard input and output.",
        discussion: """
            Speaks Postfix's policy delegation protocol as Dovecot's quota-status -p postfix: \
            name=value lines and an empty line in, action=... and an empty line out, until end of \
            file. homing serve answers the same on the listeners of a service quota-status { \
            executable = quota-status -p postfix } block; this command is for Postfix's spawn(8) \
            and for trying a configuration: printf 'recipient=alice@example.com\\nsize=1000\\n\\n' \
            | homing quota-status -p postfix. Replies: quota_status_success (OK), \
            quota_status_overquota (554 5.2.2 <quota_exceeded_message>), quota_status_toolarge, \
            quota_status_nouser (REJECT Unknown user), DEFER_IF_PERMIT when the userdb cannot answer.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .customShort("p"), help: "The policy protocol: postfix (the only one).")
    var protocolName: String

    func run() async throws {
        guard protocolName == "postfix" else {
            printError("Fatal: Unknown -p parameter: '\(protocolName)'")
            throw ExitCode(ExitStatus.fatal)
        }
        try finish(with: await QuotaStatusRunner.run(configuration: options.config))
    }
}
