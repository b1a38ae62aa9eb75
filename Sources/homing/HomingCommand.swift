import ArgumentParser
import HomingApp

/// `homing`: the LMTP delivery agent and its administration commands.
@main
struct HomingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homing",
        abstract: "A mail delivery agent: LMTP in, maildir out, configured like Dovecot.",
        version: HomingDaemon.versionLine,
        subcommands: [
            ServeCommand.self, CheckCommand.self, DeliverCommand.self, ConfigCommand.self, UserCommand.self, QuotaCommand.self,
            QuotaStatusCommand.self, ExplainCommand.self, SieveTestCommand.self,
            SieveCheckCommand.self,
        ]
    )
}

/// The `-c` option every subcommand shares.
struct ConfigOption: ParsableArguments {
    static let defaultPath = "/etc/homing/homing.conf"

    @Option(name: .customShort("c"), help: "Configuration file (Dovecot syntax).")
    var config: String = ConfigOption.defaultPath
}

/// Ends the command with `status` unless it is 0.
func finish(with status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}
