import Foundation
import HomingConfig
import HomingLMTP
import HomingUserdb
import Logging
import NIOCore
import NIOPosix

/// One socket the LMTP service listens on, resolved from `service lmtp { }`.
public enum LMTPListener: Sendable, Hashable, CustomStringConvertible {
    /// A unix socket: absolute path, owner and group (names, empty = keep), mode.
    case unix(path: String, user: String, group: String, mode: UInt16, location: ConfigLocation?)
    /// A TCP socket.
    case inet(host: String, port: Int, location: ConfigLocation?)

    public var description: String {
        switch self {
        case .unix(let path, _, _, _, _): return "unix:\(path)"
        case .inet(let host, let port, _): return host.contains(":") ? "inet:[\(host)]:\(port)" : "inet:\(host):\(port)"
        }
    }

    /// The listeners a configuration asks for: relative unix paths are inside `base_dir`,
    /// unix listeners with `mode = 0` and inet listeners with port 0 are disabled (as in Dovecot), `*` means every IPv4 address
    /// and `::` every IPv6 address.
    public static func listeners(for settings: HomingSettings) -> [LMTPListener] {
        var result: [LMTPListener] = []
        // `mode = 0` switches a unix listener off, as in Dovecot (the built-in `lmtp` one too).
        for unix in settings.lmtpService.unixListeners where !unix.path.isEmpty && unix.mode != 0 {
            let path = unix.path.hasPrefix("/") ? unix.path : settings.baseDir + "/" + unix.path
            result.append(.unix(path: path, user: unix.user, group: unix.group, mode: unix.mode, location: unix.location))
        }
        for inet in settings.lmtpService.inetListeners where inet.port != 0 {
            let addresses = inet.addresses.isEmpty ? ["*"] : inet.addresses
            for address in addresses {
                let host: String
                switch address {
                case "*": host = "0.0.0.0"
                case "[::]", "::": host = "::"
                default: host = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
                }
                result.append(.inet(host: host, port: inet.port, location: inet.location))
            }
        }
        return result
    }
}

/// A listener that could not be opened: start-up stops with this message.
public struct ListenerError: Error, Sendable, CustomStringConvertible {
    public var listener: LMTPListener
    public var message: String

    public var description: String {
        switch listener {
        case .unix(_, _, _, _, let location?), .inet(_, _, let location?):
            return "\(location): \(listener): \(message)"
        default:
            return "\(listener): \(message)"
        }
    }
}

extension LMTPListener {
    /// What identifies the socket, whatever its owner and mode: a reload keeps a listener whose
    /// address has not changed.
    var address: String { description }

    /// Binds the socket. A unix socket's directory must exist; a socket file that another
    /// process answers on (a running Homing or Dovecot) is never touched: binding fails; a stale
    /// one (nobody answers) is replaced. The socket gets the configured owner, group and mode
    /// before the first client can be served. `idle` is asked for each accepted connection.
    ///
    /// Each accepted connection is first put to `admission`: a refused one gets
    /// `421 4.3.2 <hostname> Too many connections` and is closed on its event loop (it reaches
    /// the server as ``AcceptedConnection/refused``).
    func bind(
        group: any EventLoopGroup, idle: @escaping @Sendable () -> LMTPIdleSettings, admission: ConnectionAdmission
    ) async throws -> BoundListener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailureHandler(admission: admission))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: false)
        let unclaimed = UnclaimedConnections<NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>> { connection in
            let hostname = idle().hostname
            Task { await Self.answerShuttingDown(connection, hostname: hostname) }
        }
        return try await bindSocket(bootstrap, claims: unclaimed) { child in
            try Self.wrap(child, idle: idle(), admission: admission, unclaimed: unclaimed)
        }
    }

    /// Tells a client accepted as the server stops `421 4.3.2 <hostname> Shutting down` and
    /// closes its connection (an `NIOAsyncChannel` must be finished through `executeThenClose`).
    static func answerShuttingDown(_ connection: NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>, hostname: String) async {
        let reply = [LMTPReply.shuttingDown(hostname: hostname)].wireBuffer()
        try? await connection.executeThenClose { _, outbound in
            try await outbound.write(LMTPSessionOutput(bytes: reply, waitingAfterReads: nil))
        }
    }

    /// Binds this listener with `bootstrap`, each accepted connection made by `makeChild` on
    /// its event loop: a unix socket's directory must exist, a socket another process answers
    /// on is never taken over (``UnixSocketFile/prepare(_:for:)``), and the socket has its
    /// owner, group and mode before the first client is served. Every failure is a
    /// ``ListenerError`` naming the listener. Shared by the LMTP and policy listeners.
    /// `claims` holds the connections `makeChild` registers until the accept loop takes them
    /// (see ``UnclaimedConnections``).
    func bindSocket<Child: Sendable>(
        _ bootstrap: ServerBootstrap, claims: any ConnectionClaims,
        child makeChild: @escaping @Sendable (any Channel) throws -> Child
    ) async throws -> BoundSocket<Child> {
        let initialize: @Sendable (any Channel) -> EventLoopFuture<Child> = { child in
            child.eventLoop.makeCompletedFuture { try makeChild(child) }
        }
        do {
            switch self {
            case .unix(let path, _, _, _, _):
                let directory = (path as NSString).deletingLastPathComponent
                guard ListenerChecks.directoryExists(directory) else {
                    throw ListenerError(listener: self, message: "directory \(directory) does not exist: create it or change the unix_listener path")
                }
                try UnixSocketFile.prepare(path, for: self)
                let channel = try await bootstrap.bind(
                    unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: initialize)
                let bound = BoundSocket(
                    listener: self, channel: channel, socketFile: UnixSocketFile.identity(of: path), claims: claims)
                do {
                    try applyOwnership()
                } catch {
                    try? await channel.channel.close()
                    bound.removeSocketFile()
                    throw error
                }
                return bound
            case .inet(let host, let port, _):
                let channel = try await bootstrap.bind(host: host, port: port, childChannelInitializer: initialize)
                return BoundSocket(listener: self, channel: channel, socketFile: nil, claims: claims)
            }
        } catch let error as ListenerError {
            throw error
        } catch {
            throw ListenerError(listener: self, message: "\(error)")
        }
    }

    /// Gives a unix socket its configured mode, owner and group (also after a reload that only
    /// changed those).
    func applyOwnership() throws {
        guard case .unix(let path, let user, let groupName, let mode, _) = self else { return }
        let owner = try ownership(user: user, group: groupName)
        if chmod(path, mode_t(mode)) != 0 {
            throw ListenerError(listener: self, message: "chmod \(String(mode, radix: 8)): \(String(cString: strerror(errno)))")
        }
        if owner.uid != nil || owner.gid != nil {
            if chown(path, owner.uid ?? UInt32.max, owner.gid ?? UInt32.max) != 0 {
                throw ListenerError(listener: self, message: "chown \(user):\(groupName): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func ownership(user: String, group: String) throws -> (uid: UInt32?, gid: UInt32?) {
        var uid: UInt32?
        var gid: UInt32?
        if !user.isEmpty {
            guard let id = SystemAccounts.uid(user) else {
                throw ListenerError(listener: self, message: "user '\(user)' does not exist")
            }
            uid = id
        }
        if !group.isEmpty {
            guard let id = SystemAccounts.gid(group) else {
                throw ListenerError(listener: self, message: "group '\(group)' does not exist")
            }
            gid = id
        }
        return (uid, gid)
    }

    private static func wrap(
        _ channel: any Channel, idle: LMTPIdleSettings, admission: ConnectionAdmission,
        unclaimed: UnclaimedConnections<NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>>
    ) throws -> AcceptedConnection {
        switch admission.connectionAccepted() {
        case .refuse:
            channel.closeFuture.whenComplete { _ in admission.refusedConnectionClosed() }
            try channel.pipeline.syncOperations.addHandler(
                ConnectionRefusalHandler(reply: [LMTPReply.tooManyConnections(hostname: idle.hostname)].wireBuffer()))
            return .refused
        case .admit:
            channel.closeFuture.whenComplete { _ in admission.sessionEnded() }
            try channel.pipeline.syncOperations.addHandler(
                LMTPConnectionHandler(hostname: idle.hostname, idleTimeout: idle.timeout, logger: idle.logger))
            let connection = try NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>(wrappingChannelSynchronously: channel)
            unclaimed.register(connection, for: channel)
            return .session(connection)
        }
    }
}

/// An LMTP listener's socket.
typealias BoundListener = BoundSocket<AcceptedConnection>

/// A listening socket, with the identity of its socket file so that only that file is ever
/// removed.
struct BoundSocket<Child: Sendable>: Sendable {
    var listener: LMTPListener
    var channel: NIOAsyncChannel<Child, Never>
    var socketFile: UnixSocketFile.Identity?
    /// The connections made for this listener that its accept loop has not taken yet.
    var claims: any ConnectionClaims

    /// Removes the unix socket file, if it is still the one this listener created.
    func removeSocketFile() {
        guard case .unix(let path, _, _, _, _) = listener, let socketFile else { return }
        if UnixSocketFile.identity(of: path) == socketFile { unlink(path) }
    }
}

/// A connection accepted on a listener.
enum AcceptedConnection: Sendable {
    /// To be served.
    case session(NIOAsyncChannel<ByteBuffer, LMTPSessionOutput>)
    /// Refused (too many connections): answered and closed on its event loop, nothing to do.
    case refused
}

/// How idle connections are closed: after `timeout` without input while the session waits
/// for the client, with `421 4.4.2 <hostname> Disconnected for inactivity`.
struct LMTPIdleSettings: Sendable {
    var timeout: TimeAmount
    var hostname: String
    var logger: Logger
}
