import ArgumentParser
import HomingApp
import HomingConfig
import HomingServer

/// `homing config`: the effective non-default settings, like `doveconf -n`; `--check`
/// validates everything start-up validates.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective non-default settings, or check the configuration.")

    @OptionGroup var options: ConfigOption

    @Flag(help: "Validate as start-up does (userdb drivers and their files included) and print problems only.")
    var check = false

    func run() async throws {
        guard let loaded = CommandRunner.loadConfiguration(options.config) else {
            throw ExitCode(ExitStatus.configError)
        }
        for warning in loaded.warnings {
            printError("Warning: \(warning)")
        }
        guard check else {
            print(loaded.nonDefaultSettingsText(), terminator: "")
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
