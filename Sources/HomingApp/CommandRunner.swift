import HomingConfig
import Logging

/// Exit statuses of the commands (sysexits.h, as Dovecot's tools use them).
public enum ExitStatus {
    /// EX_NOUSER: the user does not exist.
    public static let noUser: Int32 = 67
    /// EX_TEMPFAIL: try again later (userdb down).
    public static let temporaryFailure: Int32 = 75
    /// EX_NOPERM: not allowed as this user (doveadm's status for a permission error).
    public static let noPermission: Int32 = 77
    /// EX_CONFIG: the configuration is wrong.
    public static let configError: Int32 = 78
    /// Dovecot's status for a fatal start-up error (another instance running).
    public static let fatal: Int32 = 89
}

/// Writes a line to standard error.
public func printError(_ line: String) {
    LogOutput.standardError.write(line)
}

/// The pattern every administration command shares: load the configuration, build the
/// program, do the work, shut down; configuration problems are printed as `Fatal: ...` and
/// give EX_CONFIG.
public enum CommandRunner {
    /// Loads the configuration at `path` (Dovecot 2.3 or 2.4) and makes the start-up checks
    /// (``StartupChecks``), or prints every error found (then the warnings).
    public static func loadConfiguration(_ path: String) -> LoadedConfiguration? {
        var loaded = ConfigurationLoader.loadAll(path: path)
        StartupChecks.run(on: &loaded)
        guard !loaded.diagnostics.hasErrors else {
            for line in loaded.diagnostics.report { printError(line) }
            return nil
        }
        return loaded
    }

    /// Runs `body` on the program `path` configures and returns its exit status (EX_CONFIG when
    /// the configuration cannot be loaded or built). Log lines of `logLevel` and above go to
    /// standard error.
    public static func withRuntime(
        configuration path: String, logLevel: Logger.Level = .error, threads: Int = 4, sieveThreads: Int = 1,
        _ body: (HomingRuntime) async -> Int32
    ) async -> Int32 {
        guard let loaded = loadConfiguration(path) else { return ExitStatus.configError }
        return await withRuntime(loaded, logLevel: logLevel, threads: threads, sieveThreads: sieveThreads, body)
    }

    /// Runs `body` on the program a loaded configuration describes.
    public static func withRuntime(
        _ loaded: LoadedConfiguration, logLevel: Logger.Level = .error, threads: Int = 4, sieveThreads: Int = 1,
        _ body: (HomingRuntime) async -> Int32
    ) async -> Int32 {
        let logger = Logger(label: "homing") { label in
            DovecotStyleLogHandler(label: label, logLevel: logLevel)
        }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(
                configuration: loaded, logger: logger, threads: threads, sieveThreads: sieveThreads, userdbThreads: 2)
        } catch {
            printError("Error: \(StartupChecks.locate(error, in: loaded))")
            return ExitStatus.configError
        }
        let status = await body(runtime)
        await runtime.shutdown()
        return status
    }
}
