/// The bookkeeping of a connection pool, free of I/O: which connections are idle, how many are
/// lent out or being opened, who waits, and when the server may be tried again after a failure.
///
/// Each event returns ``Actions`` for the caller to carry out (hand a connection to a waiter,
/// fail a waiter, open or close connections). Waiters are identified by numbers the caller picks.
///
/// Rules:
/// - Connections are opened lazily, one per waiter, never more than `maxConnections` in total.
/// - A failed open starts a back-off (`initialBackoff`, doubled after each further failure, at
///   most `maxBackoff`); waiters with nothing else to wait for fail at once with the reason, and
///   until the back-off ends requests that would need a new connection fail at once.
/// - After a failure only one connection is opened at a time (a probe); when it succeeds, the
///   back-off is forgotten and the pool grows again as needed.
/// - A connection returned as broken is closed; `dropIdle` also closes the idle ones (after the
///   server restarted, all of them are dead).
package struct ConnectionPoolStateMachine<Connection> {
    /// Sizes and delays.
    package struct Configuration: Sendable, Hashable {
        package var maxConnections: Int
        package var initialBackoff: Duration
        package var maxBackoff: Duration

        package init(maxConnections: Int, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30)) {
            self.maxConnections = max(1, maxConnections)
            self.initialBackoff = initialBackoff
            self.maxBackoff = max(initialBackoff, maxBackoff)
        }
    }

    /// What the caller must do after an event.
    struct Actions {
        /// Give these connections to these waiters; `reused` is false for a just-opened one.
        var deliveries: [(waiter: Int, connection: Connection, reused: Bool)] = []
        /// Fail these waiters with the reason.
        var failures: [(waiter: Int, reason: String)] = []
        /// Start this many connection attempts; report each with ``opened(_:)`` or
        /// ``openFailed(reason:now:)``.
        var opens = 0
        /// Close these connections.
        var closes: [Connection] = []
    }

    let configuration: Configuration
    private(set) var idle: [Connection] = []
    private(set) var leased = 0
    private(set) var opening = 0
    private(set) var waiters: [Int] = []
    private(set) var consecutiveFailures = 0
    private(set) var retryNotBefore: ContinuousClock.Instant?
    private(set) var lastFailure: String?
    private(set) var isShutDown = false

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Connections that exist or are being opened.
    var total: Int { idle.count + leased + opening }

    // MARK: - Events

    /// `waiter` wants a connection.
    mutating func leaseRequested(waiter: Int, now: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        if isShutDown {
            actions.failures.append((waiter, "the connection pool is shut down"))
            return actions
        }
        if let connection = idle.popLast() {
            leased += 1
            actions.deliveries.append((waiter, connection, true))
            return actions
        }
        if let retry = retryNotBefore, now < retry, opening == 0, leased == 0 {
            actions.failures.append((waiter, backoffReason(now: now, retry: retry)))
            return actions
        }
        waiters.append(waiter)
        openAsNeeded(&actions, now: now)
        return actions
    }

    /// A connection attempt succeeded.
    mutating func opened(_ connection: Connection, now: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        opening -= 1
        consecutiveFailures = 0
        retryNotBefore = nil
        lastFailure = nil
        if isShutDown {
            actions.closes.append(connection)
            return actions
        }
        hand(connection, reused: false, &actions)
        openAsNeeded(&actions, now: now)
        return actions
    }

    /// A connection attempt failed.
    mutating func openFailed(reason: String, now: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        opening -= 1
        consecutiveFailures += 1
        lastFailure = reason
        let retry = now + backoff(afterFailures: consecutiveFailures)
        retryNotBefore = retry
        if opening == 0 {
            // Nothing else is being opened: the waiters would only wait for the timeout.
            // Leased connections may come back, but the server is most likely down for them too.
            let message = "\(reason) (next connection attempt in \(Self.format(retry - now)))"
            actions.failures = waiters.map { ($0, message) }
            waiters.removeAll()
        }
        return actions
    }

    /// A lent connection comes back. `reusable` false closes it; `dropIdle` closes the idle
    /// connections too.
    mutating func released(_ connection: Connection, reusable: Bool, dropIdle: Bool,
                           now: ContinuousClock.Instant) -> Actions {
        var actions = Actions()
        leased -= 1
        if dropIdle {
            actions.closes += idle
            idle.removeAll()
        }
        if reusable, !isShutDown {
            hand(connection, reused: true, &actions)
        } else {
            actions.closes.append(connection)
        }
        openAsNeeded(&actions, now: now)
        return actions
    }

    /// `waiter` gave up (its deadline passed). Fails it when it is still waiting.
    mutating func timedOut(waiter: Int, reason: String) -> Actions {
        var actions = Actions()
        if let index = waiters.firstIndex(of: waiter) {
            waiters.remove(at: index)
            actions.failures.append((waiter, reason))
        }
        return actions
    }

    /// Closes the idle connections and fails the waiters; later requests fail, connections that
    /// come back or finish opening are closed.
    mutating func shutDown() -> Actions {
        var actions = Actions()
        isShutDown = true
        actions.closes = idle
        idle.removeAll()
        actions.failures = waiters.map { ($0, "the connection pool is shut down") }
        waiters.removeAll()
        return actions
    }

    // MARK: - Helpers

    /// The delay before the next attempt after `failures` failures in a row.
    func backoff(afterFailures failures: Int) -> Duration {
        var delay = configuration.initialBackoff
        var step = 1
        while step < failures, delay < configuration.maxBackoff {
            delay *= 2
            step += 1
        }
        return min(delay, configuration.maxBackoff)
    }

    private mutating func hand(_ connection: Connection, reused: Bool, _ actions: inout Actions) {
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            let waiter = waiters.removeFirst()
            leased += 1
            actions.deliveries.append((waiter, connection, reused))
        }
    }

    /// Starts attempts for waiters nobody is opening a connection for, within the limit; one
    /// at a time while the server is failing, none during the back-off.
    private mutating func openAsNeeded(_ actions: inout Actions, now: ContinuousClock.Instant) {
        if let retry = retryNotBefore, now < retry { return }
        while waiters.count > opening, total < configuration.maxConnections {
            if consecutiveFailures > 0, opening > 0 { return }
            opening += 1
            actions.opens += 1
        }
    }

    private func backoffReason(now: ContinuousClock.Instant, retry: ContinuousClock.Instant) -> String {
        let reason = lastFailure ?? "cannot connect"
        return "\(reason) (next connection attempt in \(Self.format(retry - now)))"
    }

    /// `1.5 s`.
    package static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let tenths = (milliseconds + 50) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
