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
    public let runtime: HomingRuntime
    public let delivery: LocalDelivery
    public let listeners: [LMTPListener]
    private let sessionConfiguration: LMTPSessionConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let idleTimeout: TimeAmount
    private let registry = ConnectionRegistry()
    /// How long shutdown waits for busy sessions (a delivery in progress) before closing them.
    private let shutdownGrace: Duration = .seconds(30)

    /// - Parameter idleTimeout: how long a client may stay silent while the server waits for it.
    public init(
        runtime: HomingRuntime, plugins: [any DeliveryPlugin] = [], idleTimeout: TimeAmount = .minutes(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.idleTimeout = idleTimeout
        let settings = runtime.configuration.settings
        self.runtime = runtime
        self.logger = runtime.logger
        self.delivery = LocalDelivery(
            settings: settings, resolver: runtime.resolver, threadPool: runtime.threadPool, plugins: plugins,
            logger: runtime.logger)
        self.listeners = LMTPListener.listeners(for: settings)
        self.sessionConfiguration = LMTPSessionConfiguration(hostname: delivery.hostname)
        self.group = group
    }

    public func run() async throws {
        var channels: [NIOAsyncChannel<AcceptedConnection, Never>] = []
        try createBaseDirectory()
        let idle = LMTPIdleSettings(timeout: idleTimeout, hostname: delivery.hostname, logger: logger)
        do {
            for listener in listeners {
                channels.append(try await listener.bind(group: group, idle: idle))
            }
        } catch {
            for channel in channels { try? await channel.channel.close() }
            throw error
        }
        if listeners.isEmpty {
            logger.warning("service lmtp has no listeners: nothing to serve")
        }
        logger.info("Homing started, listening on \(listeners.map(\.description).joined(separator: ", "))")
        let serverChannels = channels
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for channel in serverChannels {
                    group.addTask {
                        try await channel.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { connections in
                                for try await connection in inbound {
                                    connections.addTask { await self.serve(connection) }
                                }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections, finishing sessions in progress")
            for channel in serverChannels { channel.channel.close(promise: nil) }
            let registry = self.registry
            let hostname = self.delivery.hostname
            let grace = self.shutdownGrace
            // Idle sessions are closed at once; busy ones when their delivery is done.
            Task {
                let deadline = ContinuousClock.now + grace
                while registry.closeIdle(hostname: hostname) > 0 && ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                registry.closeAll()
            }
        }
        logger.info("Homing stopped")
    }

    /// `base_dir` is created when missing, as Dovecot does; other socket directories must exist.
    private func createBaseDirectory() throws {
        let baseDir = runtime.configuration.settings.baseDir
        let usesBaseDir = listeners.contains {
            if case .unix(let path, _, _, _, _) = $0 { return path.hasPrefix(baseDir + "/") }
            return false
        }
        guard usesBaseDir, !ListenerChecks.directoryExists(baseDir) else { return }
        if mkdir(baseDir, 0o755) != 0 && errno != EEXIST {
            throw ConfigError("base_dir \(baseDir): cannot create it: \(String(cString: strerror(errno)))")
        }
    }

    private func serve(_ connection: AcceptedConnection) async {
        let remote = connection.channel.channel.remoteAddress
        let local = connection.channel.channel.localAddress
        let info = LMTPConnectionInfo(remoteIP: remote?.ipAddress, localIP: local?.ipAddress)
        if registry.isShuttingDown {
            // Accepted just before the listener closed: close it properly (an NIOAsyncChannel
            // must be finished through executeThenClose).
            try? await connection.channel.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(string: LMTPReply.shuttingDown(hostname: delivery.hostname).wireFormat))
            }
            return
        }
        await registry.serving(connection) {
            await serveConnection(connection, info: info)
        }
    }

    private func serveConnection(_ connection: AcceptedConnection, info: LMTPConnectionInfo) async {
        do {
            try await serveLMTP(
                channel: connection.channel, backend: delivery, connection: info, configuration: sessionConfiguration,
                logger: logger, activity: connection.activity)
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }
}
