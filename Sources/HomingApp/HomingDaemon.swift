import HomingConfig
import HomingServer
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `homing serve`: the LMTP server as a system daemon.
///
/// - One instance per `base_dir` (``InstanceLock``).
/// - `SIGTERM`/`SIGINT`: stop accepting, finish the sessions in progress, exit 0.
/// - `SIGHUP`: read the configuration again; new sessions get the new listeners, userdbs and
///   plugin settings, sessions in progress finish on the old ones; a configuration that does
///   not load is logged and the running one stays in force.
/// - `SIGUSR1`: reopen the log file (after logrotate renamed it).
/// - Under systemd (`Type=notify`): READY, RELOADING and STOPPING as they happen.
public enum HomingDaemon {
    /// The version line: `homing 0.3.0 (commit 1a2b3c4d5e6f)`.
    public static var versionLine: String { "homing \(BuildInfo.version) (commit \(BuildInfo.commit))" }

    /// Runs the server on the configuration at `path` until it is stopped; returns the exit
    /// status (0 after a clean stop).
    public static func run(configuration path: String, idleTimeout: TimeAmount = .minutes(5)) async -> Int32 {
        guard let loaded = CommandRunner.loadConfiguration(path) else { return ExitStatus.configError }
        let settings = loaded.settings
        let output: LogOutput
        do {
            output = try LogOutput.forLogPath(settings.logPath)
        } catch {
            printError("Fatal: \(error)")
            return ExitStatus.configError
        }
        let logger = makeLogger(output: output, debug: settings.mailDebug)
        logger.info("\(versionLine) starting up (configuration \(path), logging to \(output.description))")
        for warning in loaded.diagnostics.warnings {
            logger.warning("\(warning)")
        }
        let lock: InstanceLock
        do {
            lock = try InstanceLock(baseDir: settings.baseDir)
        } catch {
            logger.critical("\(error)")
            if !output.isStandardError { printError("Fatal: \(error)") }
            return ExitStatus.fatal
        }
        defer { lock.release() }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(configuration: loaded, logger: logger)
            if settings.lmtpProxy { _ = try runtime.requirePassdb() }
        } catch {
            let located = StartupChecks.locate(error, in: loaded)
            logger.critical("\(located)")
            if !output.isStandardError { printError("Fatal: \(located)") }
            return ExitStatus.configError
        }
        let notifier = ServiceNotifier()
        let current = CurrentRuntime(runtime)
        let server = runtime.makeServer(
            idleTimeout: idleTimeout,
            onListening: { notifier.ready("serving LMTP") },
            onRetire: { await runtime.shutdown() })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if !settings.statsHTTPListeners.isEmpty {
            services.append(
                .init(
                    service: MetricsEndpoint(listeners: settings.statsHTTPListeners, logger: logger),
                    failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let signals = SignalHandler(
            configurationPath: path, server: server, output: output, logger: logger, notifier: notifier,
            running: settings, current: current)
        services.append(.init(service: signals))
        if let policy = quotaStatusServer(settings: settings, current: current, logger: logger) {
            services.append(.init(service: policy, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        var status: Int32 = 0
        do {
            try await group.run()
        } catch {
            logger.critical("\(error)")
            if !output.isStandardError { printError("Fatal: \(error)") }
            status = ExitStatus.configError
        }
        notifier.stopping()
        await current.runtime.shutdown()
        return status
    }

    /// The `quota-status` policy server, when the configuration has the service: its listeners
    /// are bound at start (a reload that changes them says so and keeps them); each request is
    /// answered by the runtime in force.
    private static func quotaStatusServer(settings: HomingSettings, current: CurrentRuntime, logger: Logger) -> PolicyServer? {
        guard let service = settings.quotaStatusService else { return nil }
        let listeners = LMTPListener.listeners(for: service.listeners, baseDir: settings.baseDir, listen: settings.listen)
        if listeners.isEmpty {
            logger.warning("service \(service.name) has no listeners: add a unix_listener or inet_listener block")
            return nil
        }
        if !settings.mailPlugins.contains("quota") {
            logger.warning("service \(service.name): mail_plugins has no quota: every known user is answered quota_status_success")
        }
        return PolicyServer(name: service.name, listeners: listeners, logger: logger) { request in
            await QuotaStatusService(runtime: current.runtime).answer(request)
        }
    }

    static func makeLogger(output: LogOutput, debug: Bool) -> Logger {
        let level: Logger.Level = debug ? .debug : .info
        return Logger(label: "lmtp") { label in
            DovecotStyleLogHandler(label: label, output: output, logLevel: level)
        }
    }
}

/// Handles `SIGHUP` (reload) and `SIGUSR1` (reopen logs) while the server runs.
private struct SignalHandler: Service {
    let configurationPath: String
    let server: LMTPServer
    let output: LogOutput
    let logger: Logger
    let notifier: ServiceNotifier
    /// The settings in force at start: what a reload cannot change without a restart.
    let running: HomingSettings
    let current: CurrentRuntime

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sigusr1 {
                do {
                    try output.reopen()
                    logger.info("SIGUSR1: log file reopened")
                } catch {
                    logger.error("SIGUSR1: cannot reopen the log: \(error)")
                }
            } else {
                await reload()
            }
        }
    }

    private func reload() async {
        notifier.reloading()
        defer { notifier.ready("serving LMTP") }
        logger.info("SIGHUP received - reloading configuration \(configurationPath)")
        var loaded = ConfigurationLoader.loadAll(path: configurationPath)
        StartupChecks.run(on: &loaded)
        guard !loaded.diagnostics.hasErrors else {
            for error in loaded.diagnostics.errors {
                logger.error("reload failed, the running configuration stays in force: \(error)")
            }
            return
        }
        for warning in loaded.diagnostics.warnings { logger.warning("\(warning)") }
        let settings = loaded.settings
        if settings.baseDir != running.baseDir {
            logger.warning("base_dir changed to \(settings.baseDir): this takes effect at the next restart")
        }
        if settings.statsHTTPListeners != running.statsHTTPListeners {
            logger.warning("service stats changes take effect at the next restart")
        }
        if settings.logPath != running.logPath || settings.mailDebug != running.mailDebug {
            logger.warning("log_path and mail_debug changes take effect at the next restart")
        }
        if settings.quotaStatusService?.listeners != running.quotaStatusService?.listeners
            || (settings.quotaStatusService == nil) != (running.quotaStatusService == nil)
        {
            logger.warning("service quota-status: listener changes take effect at the next restart")
        }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(configuration: loaded, logger: logger)
        } catch {
            logger.error("reload failed, the running configuration stays in force: \(StartupChecks.locate(error, in: loaded))")
            return
        }
        if settings.lmtpProxy {
            do {
                _ = try runtime.requirePassdb()
            } catch {
                logger.error("reload failed, the running configuration stays in force: \(StartupChecks.locate(error, in: loaded))")
                await runtime.shutdown()
                return
            }
        }
        do {
            try await server.reconfigure(
                delivery: runtime.delivery, settings: settings, backend: runtime.lmtpBackend
            ) { await runtime.shutdown() }
        } catch {
            logger.error("reload failed, the running configuration stays in force: \(error)")
            await runtime.shutdown()
            return
        }
        current.runtime = runtime
    }
}

/// The runtime serving new connections (the latest that loaded).
private final class CurrentRuntime: Sendable {
    private let value: Mutex<HomingRuntime>

    init(_ runtime: HomingRuntime) { value = Mutex(runtime) }

    var runtime: HomingRuntime {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
