import ArgumentParser
import HomingConfig
import HomingServer
import HomingUserdb
import HomingUserdbLDAP
import HomingUserdbSQL

/// `homing`: the LMTP delivery agent and its administration commands.
@main
struct HomingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "homing",
        abstract: "A mail delivery agent: LMTP in, maildir out, configured like Dovecot.",
        subcommands: [
            ServeCommand.self, ConfigCommand.self, UserCommand.self, QuotaCommand.self, SieveTestCommand.self,
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

/// sysexits.h codes used by the commands.
enum ExitStatus {
    /// EX_NOUSER: the user does not exist.
    static let noUser: Int32 = 67
    /// EX_TEMPFAIL: try again later (userdb down).
    static let temporaryFailure: Int32 = 75
    /// EX_CONFIG: the configuration is wrong.
    static let configError: Int32 = 78
}

/// The userdb drivers this build knows: the file-based ones, sql and ldap.
func userdbRegistry() -> UserdbDriverRegistry {
    var registry = UserdbDriverRegistry.builtIn
    SQLUserdb.register(in: &registry)
    LDAPUserdb.register(in: &registry)
    return registry
}

/// Loads the configuration (Dovecot 2.3 or 2.4) or lists every error in it (then the
/// warnings) and exits with EX_CONFIG.
func loadConfiguration(_ path: String) throws -> LoadedConfiguration {
    let loaded = ConfigurationLoader.loadAll(path: path)
    guard !loaded.diagnostics.hasErrors else {
        for line in loaded.diagnostics.report { printError(line) }
        throw ExitCode(ExitStatus.configError)
    }
    return loaded
}

/// Writes a line to standard error.
func printError(_ line: String) {
    DovecotStyleLogHandler.Output.standardError.write(line)
}
