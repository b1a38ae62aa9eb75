import NIOCore
import Synchronization

/// What a listener's accept loop asks of ``UnclaimedConnections`` without knowing its
/// connection type.
protocol ConnectionClaims: Sendable {
    /// Takes the connection made for `channel` out of the registry; `false` if it is not there
    /// (it was never registered, or was already disposed of).
    func claim(_ channel: any Channel) -> Bool
    /// The accept loop has ended: every connection not claimed, and every one registered from
    /// now on, is disposed of.
    func close()
}

/// The connections a listener made on its children's event loops and its accept loop has not
/// taken yet.
///
/// An `NIOAsyncChannel` must be finished through `executeThenClose`, or it traps when the last
/// reference goes. A connection accepted just as its listener closes is made (its
/// `NIOAsyncChannel` wrapped around the child) but then dropped by the closed listener before
/// any task sees it. Holding each one here until the accept loop claims it, and handing those
/// never claimed to `dispose` (which answers and closes them), closes that gap: every
/// connection is either served or disposed of, exactly once.
final class UnclaimedConnections<Connection: Sendable>: ConnectionClaims {
    private struct State {
        var connections: [ObjectIdentifier: Connection] = [:]
        var closed = false
    }
    private let state = Mutex(State())
    private let dispose: @Sendable (Connection) -> Void

    /// - Parameter dispose: answers and closes a connection that will not be served (it must
    ///   finish the connection; it runs on whatever thread gives it up, so it should start a
    ///   task rather than wait).
    init(dispose: @escaping @Sendable (Connection) -> Void) {
        self.dispose = dispose
    }

    /// Connections made and not yet claimed.
    var count: Int { state.withLock { $0.connections.count } }

    /// Holds `connection`, made for `channel`, until it is claimed; once the registry is
    /// closed it is disposed of at once.
    func register(_ connection: Connection, for channel: any Channel) {
        let refused = state.withLock { state -> Bool in
            if state.closed { return true }
            state.connections[ObjectIdentifier(channel)] = connection
            return false
        }
        if refused { dispose(connection) }
    }

    func claim(_ channel: any Channel) -> Bool {
        state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) != nil }
    }

    func close() {
        let left = state.withLock { state -> [Connection] in
            state.closed = true
            defer { state.connections = [:] }
            return Array(state.connections.values)
        }
        for connection in left { dispose(connection) }
    }
}
