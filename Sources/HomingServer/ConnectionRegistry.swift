import HomingLMTP
import NIOCore
import Synchronization

/// The connections a server is serving, so that shutdown can close the idle ones: a session
/// waiting for its client (between commands) is told `421 4.3.2 <host> Server shutting down`
/// and closed; a session that is looking a user up or delivering finishes that first.
final class ConnectionRegistry: Sendable {
    private let connections = Mutex<[ObjectIdentifier: AcceptedConnection]>([:])
    private let shuttingDown = Mutex(false)

    /// Registers a connection for the duration of `body`.
    func serving(_ connection: AcceptedConnection, _ body: () async -> Void) async {
        let key = ObjectIdentifier(connection.activity)
        connections.withLock { $0[key] = connection }
        await body()
        connections.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Whether shutdown has begun.
    var isShuttingDown: Bool { shuttingDown.withLock { $0 } }

    /// Marks shutdown and closes every connection now waiting for its client; returns how many
    /// connections are still open.
    @discardableResult
    func closeIdle(hostname: String) -> Int {
        shuttingDown.withLock { $0 = true }
        let open = connections.withLock { Array($0.values) }
        var remaining = 0
        for connection in open {
            if connection.activity.isAwaitingClientInput {
                let channel = connection.channel.channel
                let reply = ByteBuffer(string: LMTPReply.shuttingDown(hostname: hostname).wireFormat)
                channel.writeAndFlush(reply).whenComplete { _ in channel.close(promise: nil) }
            } else {
                remaining += 1
            }
        }
        return remaining
    }

    /// Closes every connection, busy or not (the last resort when shutdown takes too long).
    func closeAll() {
        let open = connections.withLock { Array($0.values) }
        for connection in open { connection.channel.channel.close(promise: nil) }
    }
}
