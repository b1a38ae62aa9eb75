import NIOCore

/// Idle connections to proxy destinations, kept after a transaction (reset with `RSET`) for
/// the next one. At most ``maximumIdlePerDestination`` are kept per destination; one idle
/// longer than ``idleTimeout``, or closed by the destination, is dropped, never handed out.
public actor ProxyConnectionPool {
    private struct Idle {
        var connection: LMTPClientConnection
        var since: ContinuousClock.Instant
    }

    /// Connections kept per destination (more are closed when given back).
    public let maximumIdlePerDestination: Int
    /// How long an unused connection is kept.
    public let idleTimeout: Duration
    private var idle: [ProxyDestination: [Idle]] = [:]
    private var sweeping = false
    private var closed = false

    public init(maximumIdlePerDestination: Int = 8, idleTimeout: Duration = .seconds(60)) {
        self.maximumIdlePerDestination = maximumIdlePerDestination
        self.idleTimeout = idleTimeout
    }

    /// An idle, still open connection to `destination` (the most recently used), or `nil`.
    public func take(_ destination: ProxyDestination) -> LMTPClientConnection? {
        let now = ContinuousClock.now
        while var list = idle[destination], let last = list.popLast() {
            idle[destination] = list.isEmpty ? nil : list
            if last.connection.isUsable, now - last.since < idleTimeout { return last.connection }
            last.connection.abort()
        }
        return nil
    }

    /// Keeps `connection` for reuse, or closes it when it is broken or the destination's
    /// place is full.
    public func give(_ connection: LMTPClientConnection) async {
        guard !closed, connection.isUsable,
            idle[connection.destination, default: []].count < maximumIdlePerDestination
        else {
            await connection.close()
            return
        }
        idle[connection.destination, default: []].append(Idle(connection: connection, since: .now))
        startSweeping()
    }

    /// Idle connections per destination (for tests and metrics).
    public func idleCount(_ destination: ProxyDestination) -> Int {
        idle[destination]?.count ?? 0
    }

    /// Closes every idle connection; later ones given back are closed too.
    public func shutdown() async {
        closed = true
        let all = idle.values.flatMap { $0 }
        idle = [:]
        for entry in all { await entry.connection.close() }
    }

    private func startSweeping() {
        guard !sweeping else { return }
        sweeping = true
        Task { [idleTimeout] in
            while self.sweep() {
                try? await Task.sleep(for: idleTimeout / 2)
            }
        }
    }

    /// Drops expired and closed connections; `false` once nothing is left to watch.
    private func sweep() -> Bool {
        let now = ContinuousClock.now
        for (destination, list) in idle {
            let (keep, drop) = list.reduce(into: ([Idle](), [Idle]())) { result, entry in
                if entry.connection.isUsable, now - entry.since < idleTimeout {
                    result.0.append(entry)
                } else {
                    result.1.append(entry)
                }
            }
            for entry in drop { entry.connection.abort() }
            idle[destination] = keep.isEmpty ? nil : keep
        }
        if idle.isEmpty || closed {
            sweeping = false
            return false
        }
        return true
    }
}
