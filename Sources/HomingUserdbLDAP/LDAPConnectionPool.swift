import Logging
import Synchronization

/// The open connections of one `ldap` userdb, shared by all lookups.
///
/// A job on the thread pool takes an idle connection (or opens one), uses it alone, and puts it
/// back; so there are never more connections than threads running LDAP work at once. A connection
/// that fails with anything but a request problem is closed; the next job opens (and binds) a new
/// one, so the pool recovers by itself when the server comes back. A reused connection that turns
/// out to have been dropped by the server is replaced once, within the same job.
final class LDAPConnectionPool: Sendable {
    private struct State {
        var idle: [LDAPConnection] = []
        var closed = false
        /// Whether the last attempt to reach the server failed (to log outages and recoveries once).
        var unreachable = false
    }

    private let settings: LDAPSettings
    private let timeouts: LDAPTimeouts
    private let logger: Logger
    private let state = Mutex(State())

    init(settings: LDAPSettings, timeouts: LDAPTimeouts, logger: Logger) {
        self.settings = settings
        self.timeouts = timeouts
        self.logger = logger
    }

    /// Runs `body` with a connection. Blocks: call it on the thread pool only.
    func withConnection<T>(
        _ body: (LDAPConnection) throws(LDAPOperationError) -> T
    ) -> Result<T, LDAPOperationError> {
        var attempt = 0
        while true {
            attempt += 1
            let reused: LDAPConnection? = state.withLock { $0.idle.popLast() }
            let connection: LDAPConnection
            if let reused {
                connection = reused
            } else {
                if state.withLock({ $0.closed }) {
                    return .failure(LDAPOperationError(operation: "ldap userdb", code: -1, message: "shutting down"))
                }
                do {
                    connection = try LDAPConnection.open(settings, timeouts: timeouts)
                } catch {
                    noteUnreachable(error)
                    return .failure(error)
                }
                noteReachable()
            }
            do {
                let value = try body(connection)
                giveBack(connection)
                return .success(value)
            } catch {
                if error.keepsConnection {
                    giveBack(connection)
                    return .failure(error)
                }
                connection.close()
                if reused != nil, attempt == 1, error.worthRetryingOnNewConnection {
                    logger.info("LDAP: connection lost (\(error.message)), reconnecting")
                    continue
                }
                noteUnreachable(error)
                return .failure(error)
            }
        }
    }

    /// Closes every idle connection; connections in use are closed when they come back.
    func shutdown() {
        let idle = state.withLock { state -> [LDAPConnection] in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { connection.close() }
    }

    private func giveBack(_ connection: LDAPConnection) {
        let keep = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep { connection.close() }
    }

    private func noteUnreachable(_ error: LDAPOperationError) {
        let first = state.withLock { state -> Bool in
            defer { state.unreachable = true }
            return !state.unreachable
        }
        if first { logger.error("LDAP: \(error)") }
    }

    private func noteReachable() {
        let recovered = state.withLock { state -> Bool in
            defer { state.unreachable = false }
            return state.unreachable
        }
        if recovered { logger.notice("LDAP: connected again to \(settings.uris.joined(separator: " "))") }
    }
}
