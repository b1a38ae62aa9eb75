import CoreMetrics

/// A connection lent by a ``ConnectionPool``: give it back with
/// ``ConnectionPool/release(_:reusable:dropIdle:)``.
package struct PooledConnection<Connection: Sendable>: Sendable {
    package var connection: Connection
    /// False when the connection was opened for this request; true when it sat idle before
    /// (and so may have died without anyone noticing).
    package var reused: Bool
}

/// Why no connection could be lent.
package struct ConnectionPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    package var reason: String
    package var description: String { reason }

    package init(reason: String) {
        self.reason = reason
    }
}

/// A pool of connections to one server, opened lazily, at most `maxConnections`, reopened with
/// back-off after failures (see ``ConnectionPoolStateMachine`` for the rules).
///
/// Opening and closing are done by the closures given at creation, which run blocking work
/// elsewhere (the SQL driver runs libpq on the NIO thread pool); the actor itself only keeps
/// the books, so it never blocks.
package actor ConnectionPool<Connection: Sendable> {
    package typealias Opener = @Sendable () async -> Result<Connection, ConnectionPoolError>
    package typealias Closer = @Sendable (Connection) async -> Void

    private var state: ConnectionPoolStateMachine<Connection>
    private let open: Opener
    private let close: Closer
    private var nextWaiter = 0
    private var continuations: [Int: CheckedContinuation<Result<PooledConnection<Connection>, ConnectionPoolError>, Never>] = [:]
    private var timers: [Int: Task<Void, Never>] = [:]
    private let onOpenFailure: (@Sendable (String, Int) -> Void)?
    private let metricsPrefix: String
    private let waitTimeoutReason: String

    /// `onOpenFailure` is told each failed attempt's reason and the number of failures in a row
    /// (for logging). `metricsPrefix` names the pool's metrics (`homing_sql_pool`:
    /// `homing_sql_pool_wait_seconds`, `homing_sql_pool_connections`, `homing_sql_pool_waiters`);
    /// `waitTimeoutReason` is the failure of a lease whose deadline passed.
    package init(configuration: ConnectionPoolStateMachine<Connection>.Configuration,
                 metricsPrefix: String = "homing_sql_pool",
                 waitTimeoutReason: String = "timed out waiting for a database connection",
                 open: @escaping Opener, close: @escaping Closer,
                 onOpenFailure: (@Sendable (String, Int) -> Void)? = nil) {
        self.state = ConnectionPoolStateMachine(configuration: configuration)
        self.open = open
        self.close = close
        self.onOpenFailure = onOpenFailure
        self.metricsPrefix = metricsPrefix
        self.waitTimeoutReason = waitTimeoutReason
    }

    /// Lends a connection, waiting at most until `deadline`. Fails at once when the server is
    /// known to be unreachable (during the back-off after a failed attempt).
    package func lease(deadline: ContinuousClock.Instant) async -> Result<PooledConnection<Connection>, ConnectionPoolError> {
        let waiter = nextWaiter
        nextWaiter += 1
        let start = ContinuousClock.now
        defer {
            let (seconds, attoseconds) = (ContinuousClock.now - start).components
            Timer(label: "\(metricsPrefix)_wait_seconds").recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        return await withCheckedContinuation { continuation in
            continuations[waiter] = continuation
            timers[waiter] = Task { [weak self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                guard !Task.isCancelled else { return }
                await self?.deadlinePassed(waiter: waiter)
            }
            perform(state.leaseRequested(waiter: waiter, now: .now))
        }
    }

    /// Gives a connection back: `reusable` false closes it (it broke); `dropIdle` closes the
    /// idle connections too (the server went away, so they are dead as well).
    package func release(_ lease: PooledConnection<Connection>, reusable: Bool, dropIdle: Bool = false) {
        perform(state.released(lease.connection, reusable: reusable, dropIdle: dropIdle, now: .now))
    }

    /// Closes idle connections and fails waiters; connections still lent are closed when they
    /// come back.
    package func shutDown() async {
        let actions = state.shutDown()
        perform(actions)
    }

    /// How many connections exist or are being opened (for tests and diagnostics).
    package var connectionCount: Int { state.total }

    /// How many connections sit idle.
    package var idleCount: Int { state.idle.count }

    // MARK: - Carrying out actions

    private func deadlinePassed(waiter: Int) {
        perform(state.timedOut(waiter: waiter, reason: waitTimeoutReason))
    }

    private func perform(_ actions: ConnectionPoolStateMachine<Connection>.Actions) {
        defer {
            Gauge(label: "\(metricsPrefix)_connections", dimensions: [("state", "open")]).record(state.total)
            Gauge(label: "\(metricsPrefix)_connections", dimensions: [("state", "idle")]).record(state.idle.count)
            Gauge(label: "\(metricsPrefix)_waiters").record(continuations.count)
        }
        for delivery in actions.deliveries {
            finish(delivery.waiter, .success(PooledConnection(connection: delivery.connection, reused: delivery.reused)))
        }
        for failure in actions.failures {
            finish(failure.waiter, .failure(ConnectionPoolError(reason: failure.reason)))
        }
        for connection in actions.closes {
            let close = self.close
            Task { await close(connection) }
        }
        for _ in 0..<actions.opens {
            let open = self.open
            Task {
                let result = await open()
                self.openFinished(result)
            }
        }
    }

    private func openFinished(_ result: Result<Connection, ConnectionPoolError>) {
        switch result {
        case .success(let connection):
            perform(state.opened(connection, now: .now))
        case .failure(let error):
            let actions = state.openFailed(reason: error.reason, now: .now)
            onOpenFailure?(error.reason, state.consecutiveFailures)
            perform(actions)
        }
    }

    private func finish(_ waiter: Int, _ result: Result<PooledConnection<Connection>, ConnectionPoolError>) {
        timers.removeValue(forKey: waiter)?.cancel()
        guard let continuation = continuations.removeValue(forKey: waiter) else {
            // Cannot happen: every waiter has a continuation until it is finished once. A
            // connection handed to nobody is given back so it is not lost.
            if case .success(let lease) = result { perform(state.released(lease.connection, reusable: true, dropIdle: false, now: .now)) }
            return
        }
        continuation.resume(returning: result)
    }
}
