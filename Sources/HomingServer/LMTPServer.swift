import Glibc
import HomingConfig
import HomingDelivery
import HomingLMTP
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The LMTP service: binds every configured listener, serves each connection in its own
/// task with the local delivery backend, and on shutdown stops accepting and lets the
/// sessions in progress finish.
public final class LMTPServer: Service {
    public let backend: LMTPLocalBackend
    public let listeners: [LMTPListener]
    private let baseDir: String
    private let sessionConfiguration: LMTPSessionConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let idleTimeout: TimeAmount
    private let connections = ConnectionTracker()
    /// The session and descriptor limits, applied as connections are accepted.
    private let admission: ConnectionAdmission
    private let delivery: LocalDelivery
    /// How long shutdown waits for busy sessions (a delivery in progress) before closing them.
    private let shutdownGrace: TimeAmount = .seconds(30)

    /// - Parameters:
    ///   - delivery: the delivery core every session hands its recipients and messages to.
    ///   - settings: the listeners (`service lmtp { }`) and `base_dir`.
    ///   - idleTimeout: how long a client may stay silent while the server waits for it.
    public init(
        delivery: LocalDelivery, settings: HomingSettings, logger: Logger, idleTimeout: TimeAmount = .minutes(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.idleTimeout = idleTimeout
        self.backend = LMTPLocalBackend(delivery: delivery)
        self.logger = logger
        self.baseDir = settings.baseDir
        self.listeners = LMTPListener.listeners(for: settings)
        self.sessionConfiguration = LMTPSessionConfiguration(hostname: delivery.hostname)
        self.group = group
        self.delivery = delivery
        let service = settings.lmtpService
        let processes = service.processLimit == 0 ? settings.defaultProcessLimit : service.processLimit
        let clients = service.clientLimit == 0 ? settings.defaultClientLimit : service.clientLimit
        self.admission = ConnectionAdmission(
            limit: settings.maximumLMTPSessions,
            limitDescription: "process_limit × client_limit (\(processes) × \(clients) = \(settings.maximumLMTPSessions) sessions)",
            logger: logger)
    }

    /// The most sessions served at once (`service lmtp { process_limit × client_limit }`).
    public var maximumSessions: Int { admission.limit }

    private var hostname: String { backend.hostname }

    public func run() async throws {
        var channels: [NIOAsyncChannel<AcceptedConnection, Never>] = []
        try createBaseDirectory()
        await delivery.removeStaleSpoolFiles()
        let idle = LMTPIdleSettings(timeout: idleTimeout, hostname: hostname, logger: logger)
        do {
            for listener in listeners {
                channels.append(try await listener.bind(group: group, idle: idle, admission: admission))
            }
        } catch {
            for channel in channels { try? await channel.channel.close() }
            throw error
        }
        if listeners.isEmpty {
            logger.warning("service lmtp has no listeners: nothing to serve")
        }
        logger.info(
            "Homing started, listening on \(listeners.map(\.description).joined(separator: ", ")) (at most \(admission.limit) sessions at once)")
        let serverChannels = channels
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for channel in serverChannels {
                    group.addTask {
                        try await channel.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { connections in
                                for try await connection in inbound {
                                    guard case .session(let channel) = connection else { continue }
                                    connections.addTask { await self.serve(channel) }
                                }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections, finishing sessions in progress")
            for channel in serverChannels { channel.channel.close(promise: nil) }
            // Waiting sessions close at once, busy ones once their reply is written; whatever is
            // still open after the grace period is closed.
            if self.connections.quiesceAll() > 0 {
                let connections = self.connections
                self.group.next().scheduleTask(in: self.shutdownGrace) { connections.closeAll() }
            }
        }
        logger.info("Homing stopped")
    }

    /// `base_dir` is created when missing, as Dovecot does; other socket directories must exist.
    private func createBaseDirectory() throws {
        let usesBaseDir = listeners.contains {
            if case .unix(let path, _, _, _, _) = $0 { return path.hasPrefix(baseDir + "/") }
            return false
        }
        guard usesBaseDir, !ListenerChecks.directoryExists(baseDir) else { return }
        if mkdir(baseDir, 0o755) != 0 && errno != EEXIST {
            throw ConfigError("base_dir \(baseDir): cannot create it: \(String(cString: strerror(errno)))")
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>) async {
        let channel = connection.channel
        let info = LMTPConnectionInfo(remoteIP: channel.remoteAddress?.ipAddress, localIP: channel.localAddress?.ipAddress)
        let served = await connections.serving(channel) {
            do {
                try await serveLMTP(
                    channel: connection, backend: backend, connection: info,
                    configuration: sessionConfiguration, logger: logger)
            } catch {
                logger.debug("connection ended: \(error)")
            }
        }
        if !served {
            // Accepted just as shutdown began: say so and close (an NIOAsyncChannel must be
            // finished through executeThenClose).
            let reply = [LMTPReply.shuttingDown(hostname: hostname)].wireBuffer()
            try? await connection.executeThenClose { _, outbound in
                try await outbound.write(LMTPSessionOutput(bytes: reply, waitingAfterReads: nil))
            }
        }
    }
}
