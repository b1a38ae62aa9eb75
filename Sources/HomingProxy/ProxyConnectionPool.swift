import NIOCore

/// The connections to proxy destinations: at most ``maximumPerDestination`` open to one
/// destination at once (in use or idle), and the idle ones, kept after a transaction (reset
/// with `RSET`) for the next one. At most ``maximumIdlePerDestination`` are kept idle per
/// destination; one idle longer than ``idleTimeout``, or closed by the destination, is
/// dropped, never handed out.
///
/// A transaction asks ``acquire(_:timeout:pooled:)`` for a connection: an idle one, or the
/// right to open a new one, waiting while the destination has its limit open. A connection
/// opened with that right is announced with ``opened(_:)`` and counted until its channel
/// closes (for whatever reason), so no path can leak a place.
public actor ProxyConnectionPool {
    /// What ``acquire(_:timeout:pooled:)`` gives.
    public enum Acquired: Sendable {
        /// An idle, still open connection.
        case pooled(LMTPClientConnection)
        /// A place for a new connection: open it, then ``opened(_:)`` it, or ``abandon(_:)``
        /// the place when opening failed.
        case open
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct Idle {
        var connection: LMTPClientConnection
        var since: ContinuousClock.Instant
    }

    /// Connections kept per destination (more are closed when given back).
    public let maximumIdlePerDestination: Int
    /// How long an unused connection is kept.
    public let idleTimeout: Duration
    /// Connections open to one destination at once, in use or idle; a transaction that needs
    /// another waits for one (at most its `proxy_timeout`), then fails with `451 4.4.0`.
    public let maximumPerDestination: Int
    private var idle: [ProxyDestination: [Idle]] = [:]
    /// Connections open or being opened, per destination.
    private var open: [ProxyDestination: Int] = [:]
    private var waiters: [ProxyDestination: [Waiter]] = [:]
    private var nextWaiter = 0
    private var sweeping = false
    private var closed = false

    public init(maximumIdlePerDestination: Int = 8, idleTimeout: Duration = .seconds(60), maximumPerDestination: Int = 64) {
        self.maximumIdlePerDestination = maximumIdlePerDestination
        self.idleTimeout = idleTimeout
        self.maximumPerDestination = max(1, maximumPerDestination)
    }

    /// An idle connection to `destination` (unless `pooled` is false), or the right to open a
    /// new one; waits while the destination has ``maximumPerDestination`` connections open and
    /// none idle. Nil after `timeout`.
    public func acquire(_ destination: ProxyDestination, timeout: Duration, pooled: Bool = true) async -> Acquired? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if pooled, let connection = take(destination) { return .pooled(connection) }
            if open[destination, default: 0] < maximumPerDestination {
                open[destination, default: 0] += 1
                return .open
            }
            if !pooled, let oldest = idle[destination]?.first {
                // Room for a new connection, where an idle one may not be used: close that one.
                idle[destination]?.removeFirst()
                if idle[destination]?.isEmpty == true { idle[destination] = nil }
                oldest.connection.abort()
            }
            guard ContinuousClock.now < deadline else { return nil }
            await wait(for: destination, until: deadline)
        }
    }

    /// A connection opened with the place ``acquire(_:timeout:pooled:)`` gave: counted until
    /// its channel closes.
    public func opened(_ connection: LMTPClientConnection) {
        let destination = connection.destination
        connection.whenClosed { [weak self] in
            Task { await self?.closedOne(destination) }
        }
    }

    /// Gives back a place from ``acquire(_:timeout:pooled:)`` whose connection could not be opened.
    public func abandon(_ destination: ProxyDestination) {
        closedOne(destination)
    }

    /// Connections open to `destination` now, in use or idle (for tests and metrics).
    public func openCount(_ destination: ProxyDestination) -> Int {
        open[destination] ?? 0
    }

    private func closedOne(_ destination: ProxyDestination) {
        let left = (open[destination] ?? 1) - 1
        open[destination] = left > 0 ? left : nil
        wakeOne(destination)
    }

    private func wait(for destination: ProxyDestination, until deadline: ContinuousClock.Instant) async {
        let id = nextWaiter
        nextWaiter += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.wake(destination, id: id)
        }
        await withCheckedContinuation { continuation in
            waiters[destination, default: []].append(Waiter(id: id, continuation: continuation))
        }
        timer.cancel()
    }

    private func wake(_ destination: ProxyDestination, id: Int) {
        guard let index = waiters[destination]?.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters[destination]!.remove(at: index)
        if waiters[destination]?.isEmpty == true { waiters[destination] = nil }
        waiter.continuation.resume()
    }

    /// The first waiter for `destination` looks again (a place or an idle connection came free).
    private func wakeOne(_ destination: ProxyDestination) {
        guard let first = waiters[destination]?.first else { return }
        wake(destination, id: first.id)
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
        wakeOne(connection.destination)
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
