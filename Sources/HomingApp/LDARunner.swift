import Glibc
import HomingConfig
import HomingLDA
import Logging

/// `homing deliver`: loads the configuration as dovecot-lda does (`protocol lda { }` applies,
/// `-o` overrides last), logs where `log_path` says (syslog by default, never mixed into the
/// MTA's view of standard error), builds the program and hands the message to
/// ``LocalDeliveryAgent``. A configuration that cannot be used is a temporary failure (exit 75),
/// as it is for dovecot-lda: the MTA keeps the message and retries.
public enum LDARunner {
    /// Runs `homing deliver ARGUMENTS` and returns the exit status; error lines go to standard error.
    public static func run(arguments: [String], defaultConfigPath: String) async -> Int32 {
        let line: LDACommandLine
        switch LDACommandLine.parse(arguments) {
        case .success(let parsed): line = parsed
        case .failure(let error):
            printError("Fatal: \(error)")
            printError(usage)
            return LDAExitStatus.usage
        }
        let path = line.configPath ?? defaultConfigPath
        var loaded = ConfigurationLoader.loadAll(path: path, protocolName: "lda", overrides: line.overrides)
        StartupChecks.run(on: &loaded)
        guard !loaded.diagnostics.hasErrors else {
            for error in loaded.diagnostics.errors { printError("Fatal: \(error)") }
            return LDAExitStatus.temporaryFailure
        }
        let output: LogOutput
        do {
            output = try LogOutput.forLogPath(loaded.settings.logPath)
        } catch {
            printError("Fatal: \(error)")
            return LDAExitStatus.temporaryFailure
        }
        let level: Logger.Level = loaded.settings.mailDebug ? .debug : .info
        let logger = Logger(label: "lda") { label in DovecotStyleLogHandler(label: label, output: output, logLevel: level) }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(configuration: loaded, logger: logger, threads: 4, sieveThreads: 1, userdbThreads: 2)
        } catch {
            let located = StartupChecks.locate(error, in: loaded)
            logger.critical("\(located)")
            printError("Fatal: \(located)")
            return LDAExitStatus.temporaryFailure
        }
        let agent = LocalDeliveryAgent(
            delivery: runtime.delivery, threadPool: runtime.threadPool, submitter: runtime.submitter, logger: logger)
        let result = await agent.run(line)
        await runtime.shutdown()
        for text in result.standardError { printError(text) }
        return result.status
    }

    /// dovecot-lda's usage line, with Homing's command name.
    static let usage = """
        Usage: homing deliver [-c <config file>] [-d <username>] [-p <path>] [-m <mailbox>] [-e] \
        [-f <envelope sender>] [-a <original envelope recipient>] [-r <final envelope recipient>] [-o <key>=<value>]
        """
}
