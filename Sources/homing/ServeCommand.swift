import ArgumentParser
import HomingApp

/// `homing serve`: runs the LMTP server until SIGTERM or SIGINT (SIGHUP reloads, SIGUSR1
/// reopens the log file).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the LMTP server.",
        discussion: """
            Runs in the foreground, as a supervisor (systemd, runit, s6) expects. SIGTERM or SIGINT \
            stops it after the deliveries in progress; SIGHUP reads the configuration again \
            (sessions in progress finish on the old one); SIGUSR1 reopens the log file. Under \
            systemd (Type=notify) it reports READY, RELOADING and STOPPING. One instance per \
            base_dir: base_dir/homing.pid holds its PID.
            """)

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try finish(with: await HomingDaemon.run(configuration: options.config))
    }
}
