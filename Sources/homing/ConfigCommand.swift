import ArgumentParser
import HomingApp
import HomingConfig
import HomingServer

/// `homing config`: the effective non-default settings, like `doveconf -n`; `--check`
/// validates everything start-up validates; `--print-2.4` rewrites a 2.3 file in 2.4 syntax.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective non-default settings, or check the configuration.")

    @OptionGroup var options: ConfigOption

    @Flag(help: "Validate as start-up does (userdb drivers and their files included) and print every problem: errors, then warnings.")
    var check = false

    @Flag(name: .customLong("print-2.4"),
          help: "Print a Dovecot 2.3 configuration's effective settings in Dovecot 2.4 syntax (what cannot be carried over as comments).")
    var print24 = false

    func run() async throws {
        guard let loaded = CommandRunner.loadConfiguration(options.config) else {
            throw ExitCode(ExitStatus.configError)
        }
        if print24 {
            guard loaded.syntax == .dovecot23 else {
                printError("Error: \(options.config) is already written in Dovecot 2.4 syntax")
                throw ExitCode(ExitStatus.configError)
            }
            print(Dovecot24Printer.text(for: loaded), terminator: "")
            return
        }
        for warning in loaded.diagnostics.warnings {
            printError("Warning: \(warning)")
        }
        guard check else {
            if loaded.syntax == .dovecot24 {
                print(Dovecot24Printer.text(for: loaded), terminator: "")
            } else {
                print(loaded.nonDefaultSettingsText(), terminator: "")
            }
            return
        }
        // Building the program checks what start-up checks: drivers, their files, plugins.
        let status = await CommandRunner.withRuntime(loaded, logLevel: .warning, threads: 1) { _ in 0 }
        try finish(with: status)
        for listener in LMTPListener.listeners(for: loaded.settings) {
            if case .unix(let path, _, _, _, _) = listener {
                let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                if !ListenerChecks.directoryExists(directory) {
                    printError("Warning: \(listener): directory \(directory) does not exist (serve will fail)")
                }
            }
        }
        print("\(options.config): configuration OK")
    }
}
