import Foundation
import Glibc
import HomingConfig
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A Postfix policy server (`check_policy_service unix:private/quota-status` or
/// `inet:127.0.0.1:12340`): answers each request of a connection with `action=<value>` and an
/// empty line, the value from the service it is given (quota-status, see `HomingApp`). Runs
/// beside the LMTP server in `homing serve`, on its own listeners.
///
/// Connections may stay open for many requests, as Postfix keeps them; one silent for
/// ``idleTimeout`` is closed. On shutdown the listeners stop and every connection is closed
/// (a policy client retries or, for quota-status, Postfix's `DEFER_IF_PERMIT` applies).
public final class PolicyServer: Service {
    /// Answers one request with the value after `action=`.
    public typealias Answer = @Sendable (PolicyRequest) async -> String

    private let name: String
    private let listeners: [LMTPListener]
    private let answer: Mutex<Answer>
    private let logger: Logger
    private let group: any EventLoopGroup
    private let idleTimeout: TimeAmount
    private let onListening: @Sendable () -> Void
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// - Parameters:
    ///   - name: the service's name, for log lines (`quota-status`).
    ///   - listeners: where to listen (the service's `unix_listener` and `inet_listener` blocks).
    public init(
        name: String, listeners: [LMTPListener], logger: Logger, idleTimeout: TimeAmount = .minutes(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, onListening: @escaping @Sendable () -> Void = {},
        answer: @escaping Answer
    ) {
        self.name = name
        self.listeners = listeners
        self.logger = logger
        self.idleTimeout = idleTimeout
        self.group = group
        self.onListening = onListening
        self.answer = Mutex(answer)
    }

    /// Answers new requests with `answer` (a reloaded configuration); the listeners stay.
    public func reconfigure(answer: @escaping Answer) {
        self.answer.withLock { $0 = answer }
    }

    public func run() async throws {
        var bound: [BoundSocket<NIOAsyncChannel<ByteBuffer, ByteBuffer>>] = []
        do {
            for listener in listeners { bound.append(try await bind(listener)) }
        } catch {
            for socket in bound {
                try? await socket.channel.channel.close()
                socket.removeSocketFile()
            }
            throw error
        }
        let listening = bound
        logger.info("service \(name): listening on \(listeners.map(\.description).joined(separator: ", "))")
        onListening()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for socket in listening {
                    group.addTask {
                        try await socket.channel.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { connections in
                                defer { socket.claims.close() }
                                for try await connection in inbound where socket.claims.claim(connection.channel) {
                                    connections.addTask { await self.serve(connection) }
                                }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            for socket in listening { socket.channel.channel.close(promise: nil) }
            for channel in self.open.withLock({ Array($0.values) }) { channel.close(promise: nil) }
        }
        for socket in listening { socket.removeSocketFile() }
    }

    // MARK: - Connections

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        open.withLock { $0[key] = channel }
        defer { _ = open.withLock { $0.removeValue(forKey: key) } }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var framer = PolicyRequestFramer()
                for try await buffer in inbound {
                    let requests: [PolicyRequest]
                    do {
                        requests = try framer.feed(buffer.readableBytesView)
                    } catch {
                        logger.warning("service \(name): closing a connection: \(error)")
                        return
                    }
                    for request in requests {
                        let reply = await answer.withLock({ $0 })(request)
                        let line = "action=\(reply)\n\n"
                        logger.debug("service \(name): \(request["recipient"] ?? "-") (\(request.protocolState ?? "-")): action=\(reply)")
                        try await outbound.write(ByteBuffer(string: line))
                    }
                }
            }
        } catch {
            logger.debug("service \(name): connection ended: \(error)")
        }
    }

    // MARK: - Listeners

    private func bind(_ listener: LMTPListener) async throws -> BoundSocket<NIOAsyncChannel<ByteBuffer, ByteBuffer>> {
        let idleTimeout = self.idleTimeout
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        // A connection accepted as the listener closes is closed unanswered: the policy client
        // retries (for quota-status, Postfix applies DEFER_IF_PERMIT).
        let unclaimed = UnclaimedConnections<NIOAsyncChannel<ByteBuffer, ByteBuffer>> { connection in
            Task { try? await connection.executeThenClose { _, _ in } }
        }
        return try await listener.bindSocket(bootstrap, claims: unclaimed) { child in
            try child.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
            try child.pipeline.syncOperations.addHandler(CloseWhenIdle())
            let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
            unclaimed.register(connection, for: child)
            return connection
        }
    }
}

/// Closes a connection that stayed silent for the idle timeout.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension LMTPListener {
    /// The listeners a service's `unix_listener` and `inet_listener` blocks ask for, as
    /// ``listeners(for:)`` reads `service lmtp`'s.
    public static func listeners(for service: LMTPServiceSettings, baseDir: String, listen: [String]) -> [LMTPListener] {
        var settings = HomingSettings()
        settings.baseDir = baseDir
        settings.listen = listen
        settings.lmtpService = service
        return listeners(for: settings)
    }
}
