import CoreMetrics
import Glibc
import HomingConfig
import HomingDelivery
import HomingLMTP
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The LMTP service: binds every configured listener, serves each connection in its own
/// task with the local delivery backend, and on shutdown stops accepting and lets the
/// sessions in progress finish.
///
/// ``reconfigure(delivery:settings:onRetire:)`` swaps in a new configuration while it runs
/// (`SIGHUP`): new connections get the new delivery core and listeners, sessions in progress
/// finish on the old ones, and the old core is retired once its last session is done.
public final class LMTPServer: Service {
    /// What one configuration serves connections with.
    private struct Generation: Sendable {
        var number: Int
        var backend: LMTPLocalBackend
        /// What sessions are served with: `backend`, or a backend wrapping it (the LMTP proxy).
        var sessionBackend: any LMTPBackend
        var sessionConfiguration: LMTPSessionConfiguration
        var idle: LMTPIdleSettings
        var baseDir: String
        var onRetire: @Sendable () async -> Void
    }

    private struct State {
        var current: Generation
        /// Sessions in progress per generation number.
        var sessions: [Int: Int] = [:]
        /// Replaced generations still serving sessions.
        var retired: [Int: Generation] = [:]
        var listeners: [String: BoundListener] = [:]
        var listening = false
        var shuttingDown = false
    }

    private let state: Mutex<State>
    private let group: any EventLoopGroup
    private let logger: Logger
    private let connections = ConnectionTracker()
    private let newListeners: AsyncStream<BoundListener>
    private let newListenersContinuation: AsyncStream<BoundListener>.Continuation
    private let onListening: @Sendable () -> Void
    /// The session and descriptor limits, applied as connections are accepted (set at start:
    /// a reload does not change them).
    private let admission: ConnectionAdmission
    /// How long shutdown waits for busy sessions (a delivery in progress) before closing them.
    private let shutdownGrace: TimeAmount = .seconds(30)
    private let idleTimeout: TimeAmount
    /// Each session runs on its connection's event loop (see ``EventLoopTaskExecutor``).
    private let executors: EventLoopTaskExecutors

    /// - Parameters:
    ///   - delivery: the delivery core every session hands its recipients and messages to.
    ///   - settings: the listeners (`service lmtp { }`) and `base_dir`.
    ///   - idleTimeout: how long a client may stay silent while the server waits for it.
    ///   - onListening: called once every listener is bound.
    ///   - onRetire: called when `delivery` is no longer used (after a reconfiguration, once its
    ///     last session ends).
    ///   - backend: what sessions are served with, when not the local backend on `delivery`
    ///     (the LMTP proxy, which wraps it).
    public init(
        delivery: LocalDelivery, settings: HomingSettings, logger: Logger, idleTimeout: TimeAmount = .minutes(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable () -> Void = {}, onRetire: @escaping @Sendable () async -> Void = {},
        backend: (any LMTPBackend)? = nil
    ) {
        self.idleTimeout = idleTimeout
        self.logger = logger
        self.group = group
        self.executors = EventLoopTaskExecutors(group)
        self.onListening = onListening
        (newListeners, newListenersContinuation) = AsyncStream.makeStream()
        state = Mutex(State(current: Self.generation(1, delivery, settings, logger, idleTimeout, onRetire, backend)))
        let service = settings.lmtpService
        let processes = service.processLimit == 0 ? settings.defaultProcessLimit : service.processLimit
        let clients = service.clientLimit == 0 ? settings.defaultClientLimit : service.clientLimit
        admission = ConnectionAdmission(
            limit: settings.maximumLMTPSessions,
            limitDescription: "process_limit × client_limit (\(processes) × \(clients) = \(settings.maximumLMTPSessions) sessions)",
            logger: logger)
    }

    /// The most sessions served at once (`service lmtp { process_limit × client_limit }`).
    public var maximumSessions: Int { admission.limit }

    private static func generation(
        _ number: Int, _ delivery: LocalDelivery, _ settings: HomingSettings, _ logger: Logger,
        _ idleTimeout: TimeAmount, _ onRetire: @escaping @Sendable () async -> Void, _ backend: (any LMTPBackend)?
    ) -> Generation {
        let local = LMTPLocalBackend(delivery: delivery)
        return Generation(
            number: number, backend: local, sessionBackend: backend ?? local,
            sessionConfiguration: LMTPSessionConfiguration(hostname: delivery.hostname),
            idle: LMTPIdleSettings(timeout: idleTimeout, hostname: delivery.hostname, logger: logger),
            baseDir: settings.baseDir, onRetire: onRetire)
    }

    /// The listeners of the configuration in force.
    public var listeners: [LMTPListener] {
        state.withLock { state in state.listeners.values.map(\.listener) }
    }

    private var current: Generation { state.withLock { $0.current } }

    public func run() async throws {
        let first = current
        let wanted = LMTPListener.listeners(for: first.backend.delivery.settings)
        try Self.createBaseDirectory(first.baseDir, for: wanted)
        await first.backend.delivery.removeStaleSpoolFiles()
        let bound = try await bind(wanted)
        state.withLock { state in
            for listener in bound { state.listeners[listener.listener.address] = listener }
            state.listening = true
        }
        if wanted.isEmpty {
            logger.warning("service lmtp has no listeners: nothing to serve")
        }
        logger.info(
            "Homing started, listening on \(wanted.map(\.description).joined(separator: ", ")) (at most \(admission.limit) sessions at once)")
        onListening()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                // Each accept loop runs on its listening socket's event loop, where the accepted
                // connections arrive.
                for listener in bound {
                    group.addTask(executorPreference: self.executors.executor(for: listener.channel.channel.eventLoop)) {
                        try await self.accept(on: listener)
                    }
                }
                // Listeners a reconfiguration adds.
                for await listener in newListeners {
                    group.addTask(executorPreference: self.executors.executor(for: listener.channel.channel.eventLoop)) {
                        try await self.accept(on: listener)
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections, finishing sessions in progress")
            let listeners = self.state.withLock { state -> [BoundListener] in
                state.shuttingDown = true
                return Array(state.listeners.values)
            }
            self.newListenersContinuation.finish()
            for listener in listeners {
                listener.channel.channel.close(promise: nil)
            }
            // Waiting sessions close at once, busy ones once their reply is written; whatever is
            // still open after the grace period is closed.
            if self.connections.quiesceAll() > 0 {
                let connections = self.connections
                self.group.next().scheduleTask(in: self.shutdownGrace) { connections.closeAll() }
            }
        }
        for listener in state.withLock({ Array($0.listeners.values) }) { listener.removeSocketFile() }
        logger.info("Homing stopped")
    }

    // MARK: - Reconfiguration

    /// Serves new connections with `delivery` and the listeners `settings` asks for. New
    /// listeners are bound first: if one cannot be bound, nothing changes and the error is
    /// thrown. Listeners no longer configured stop accepting; sessions in progress finish with
    /// the delivery core they started with, whose `onRetire` runs once the last one ends.
    public func reconfigure(
        delivery: LocalDelivery, settings: HomingSettings, backend: (any LMTPBackend)? = nil,
        onRetire: @escaping @Sendable () async -> Void
    ) async throws {
        let wanted = LMTPListener.listeners(for: settings)
        let (existing, number) = state.withLock { state in (state.listeners, state.current.number) }
        let added = wanted.filter { existing[$0.address] == nil }
        try Self.createBaseDirectory(settings.baseDir, for: added)
        let bound = try await bind(added)
        for listener in wanted where existing[listener.address] != nil {
            do {
                try listener.applyOwnership()
            } catch {
                logger.error("\(error)")
            }
        }
        let next = Self.generation(number + 1, delivery, settings, logger, idleTimeout, onRetire, backend)
        let wantedAddresses = Set(wanted.map(\.address))
        let (removed, retiredNow) = state.withLock { state -> ([BoundListener], Generation?) in
            let old = state.current
            state.current = next
            for listener in bound { state.listeners[listener.listener.address] = listener }
            for listener in wanted { state.listeners[listener.address]?.listener = listener }
            let removed = state.listeners.values.filter { !wantedAddresses.contains($0.listener.address) }
            for listener in removed { state.listeners[listener.listener.address] = nil }
            if (state.sessions[old.number] ?? 0) == 0 { return (removed, old) }
            state.retired[old.number] = old
            return (removed, nil)
        }
        for listener in bound { newListenersContinuation.yield(listener) }
        for listener in removed {
            try? await listener.channel.channel.close()
            listener.removeSocketFile()
        }
        logger.info(
            "configuration reloaded, listening on \(wanted.map(\.description).joined(separator: ", "))")
        if let retiredNow { await retiredNow.onRetire() }
    }

    // MARK: - Pieces

    private func bind(_ listeners: [LMTPListener]) async throws -> [BoundListener] {
        var bound: [BoundListener] = []
        do {
            for listener in listeners {
                bound.append(
                    try await listener.bind(
                        group: group,
                        idle: { [weak self] in
                            self?.current.idle
                                ?? LMTPIdleSettings(timeout: .minutes(5), hostname: "localhost", logger: Logger(label: "lmtp"))
                        }, admission: admission))
            }
        } catch {
            for listener in bound {
                try? await listener.channel.channel.close()
                listener.removeSocketFile()
            }
            throw error
        }
        return bound
    }

    /// Serves the connections `listener` accepts until it is closed. A connection made but not
    /// taken here (accepted as the listener closed) is told the server is shutting down.
    private func accept(on listener: BoundListener) async throws {
        try await listener.channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { connections in
                // When the loop ends, at once: not after the sessions in progress end.
                defer { listener.claims.close() }
                for try await connection in inbound {
                    guard case .session(let channel) = connection, listener.claims.claim(channel.channel) else { continue }
                    connections.addTask(executorPreference: self.executors.executor(for: channel.channel.eventLoop)) {
                        await self.serve(channel)
                    }
                }
            }
        }
    }

    /// `base_dir` is created when missing, as Dovecot does; other socket directories must exist.
    private static func createBaseDirectory(_ baseDir: String, for listeners: [LMTPListener]) throws {
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
        let generation = state.withLock { state -> Generation in
            state.sessions[state.current.number, default: 0] += 1
            return state.current
        }
        // Trust is decided on the real peer, once: a trusted proxy's XCLIENT replaces the
        // address the session reports, not the one checked here.
        let peer = channel.remoteAddress?.ipAddress
        let info = LMTPConnectionInfo(
            remoteIP: peer, localIP: channel.localAddress?.ipAddress,
            remotePort: channel.remoteAddress?.port, localPort: channel.localAddress?.port,
            isTrusted: generation.backend.delivery.settings.isTrustedClient(peer))
        // `homing_lmtp_connections_total` and the sessions open now (`homing_lmtp_sessions`).
        Counter(label: "homing_lmtp_connections_total").increment()
        let sessions = Meter(label: "homing_lmtp_sessions")
        sessions.increment()
        defer { sessions.decrement() }
        let served = await connections.serving(channel) {
            do {
                try await serveLMTP(
                    channel: connection, backend: generation.sessionBackend, connection: info,
                    configuration: generation.sessionConfiguration, logger: logger)
            } catch {
                logger.debug("connection ended: \(error)")
            }
        }
        if !served {
            // Accepted just as shutdown began: say so and close.
            await LMTPListener.answerShuttingDown(connection, hostname: generation.idle.hostname)
        }
        let retire = state.withLock { state -> Generation? in
            let left = (state.sessions[generation.number] ?? 1) - 1
            state.sessions[generation.number] = left > 0 ? left : nil
            guard left <= 0, let retired = state.retired.removeValue(forKey: generation.number) else { return nil }
            return retired
        }
        if let retire { await retire.onRetire() }
    }
}
