import NIOCore
import Synchronization

/// The connections a server is serving, so that shutdown can ask each to quiesce: each one's
/// ``HomingLMTP/LMTPConnectionHandler`` then closes it with `421 4.3.2 <host> Server shutting
/// down` as soon as its session waits for the client (at once for an idle one, after the reply
/// for a busy one).
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    private let state = Mutex(State())

    /// Registers `channel` for the duration of `body`, unless shutdown has begun: then `body`
    /// does not run and this returns `false`.
    func serving(_ channel: any Channel, _ body: () async -> Void) async -> Bool {
        let key = ObjectIdentifier(channel)
        let registered = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.channels[key] = channel
            return true
        }
        guard registered else { return false }
        await body()
        state.withLock { _ = $0.channels.removeValue(forKey: key) }
        return true
    }

    /// Marks shutdown and asks every connection to quiesce; returns how many there were.
    @discardableResult
    func quiesceAll() -> Int {
        let open = state.withLock { state -> [any Channel] in
            state.shuttingDown = true
            return Array(state.channels.values)
        }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        return open.count
    }

    /// Closes every connection still open, busy or not (the last resort when shutdown takes
    /// too long).
    func closeAll() {
        let open = state.withLock { Array($0.channels.values) }
        for channel in open { channel.close(promise: nil) }
    }
}
