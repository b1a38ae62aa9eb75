import ArgumentParser
import HomingApp
import HomingConfig
import Logging
import ServiceLifecycle

/// `homing serve`: runs the LMTP server until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the LMTP server.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        guard let loaded = CommandRunner.loadConfiguration(options.config) else {
            throw ExitCode(ExitStatus.configError)
        }
        let settings = loaded.settings
        let output: DovecotStyleLogHandler.Output
        do {
            output = try DovecotStyleLogHandler.Output.forLogPath(settings.logPath)
        } catch {
            printError("Fatal: \(error)")
            throw ExitCode(ExitStatus.configError)
        }
        let level: Logger.Level = settings.mailDebug ? .debug : .info
        let logger = Logger(label: "lmtp") { label in
            DovecotStyleLogHandler(label: label, output: output, logLevel: level)
        }
        for warning in loaded.warnings {
            logger.warning("\(warning)")
        }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(configuration: loaded, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(ExitStatus.configError)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: runtime.makeServer())],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("\(error)")
            await runtime.shutdown()
            throw ExitCode(ExitStatus.configError)
        }
        await runtime.shutdown()
    }
}
