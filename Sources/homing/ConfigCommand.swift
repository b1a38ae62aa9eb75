import ArgumentParser
import HomingConfig
import HomingServer
import Logging

/// `homing config`: the effective non-default settings, like `doveconf -n`; `--check`
/// validates everything start-up validates.
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
        let loaded = try loadConfiguration(options.config)
        if print24 {
            guard loaded.syntax == .dovecot23 else {
                printError("Error: \(options.config) is already written in Dovecot 2.4 syntax")
                throw ExitCode(ExitStatus.configError)
            }
            print(Dovecot24Printer.text(for: loaded), terminator: "")
            return
        }
        for warning in loaded.warnings {
            printError("Warning: \(warning)")
        }
        if check {
            let logger = Logger(label: "config") { label in
                DovecotStyleLogHandler(label: label, logLevel: .warning)
            }
            do {
                let runtime = try HomingRuntime(
                    configuration: loaded, registry: userdbRegistry(), logger: logger, threads: 1)
                do {
                    _ = try PluginSet.make(for: loaded.settings, threadPool: runtime.threadPool, logger: logger)
                } catch {
                    await runtime.shutdown()
                    throw error
                }
                await runtime.shutdown()
            } catch {
                printError("Fatal: \(error)")
                throw ExitCode(ExitStatus.configError)
            }
            for listener in LMTPListener.listeners(for: loaded.settings) {
                if case .unix(let path, _, _, _, _) = listener {
                    let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                    if !ListenerChecks.directoryExists(directory) {
                        printError("Warning: \(listener): directory \(directory) does not exist (serve will fail)")
                    }
                }
            }
            print("\(options.config): configuration OK")
        } else if loaded.syntax == .dovecot24 {
            print(Dovecot24Printer.text(for: loaded), terminator: "")
        } else {
            print(loaded.nonDefaultSettingsText(), terminator: "")
        }
    }
}
