import Glibc
import Logging
import NIOCore
import Synchronization

/// Decides, as each connection is accepted, whether it is served: the session limit
/// (`service lmtp { process_limit × client_limit }`) and the file-descriptor limit. A refused
/// connection is answered `421 4.3.2 <hostname> Too many connections` and closed at once
/// (``ConnectionRefusalHandler``); it is never left waiting.
///
/// At the descriptor limit `accept(2)` itself fails with `EMFILE`; NIO then pauses accepting
/// for a second (its `AcceptBackoffHandler`), so nothing spins. To answer the next client
/// instead of leaving it in the listen queue, one spare descriptor (on `/dev/null`) is kept
/// open and given up when that happens: the next accept gets it, is refused with the 421, and
/// the spare is taken again once a descriptor is free. Sessions in progress go on.
final class ConnectionAdmission: Sendable {
    /// The most sessions served at once.
    let limit: Int
    /// How the limit was set, for the log (`process_limit × client_limit = 100 × 1`).
    let limitDescription: String
    private let logger: Logger
    private struct Locked {
        var state: ConnectionLimitState
        var spare: Int32
        var lastWarning: ContinuousClock.Instant?
    }
    private let locked: Mutex<Locked>

    init(limit: Int, limitDescription: String, logger: Logger) {
        self.limit = max(1, limit)
        self.limitDescription = limitDescription
        self.logger = logger
        self.locked = Mutex(Locked(state: ConnectionLimitState(limit: limit), spare: Self.openSpare(), lastWarning: nil))
    }

    deinit {
        let spare = locked.withLock { $0.spare }
        if spare >= 0 { _ = Glibc.close(spare) }
    }

    /// Sessions being served now.
    var activeSessions: Int { locked.withLock { $0.state.active } }

    /// A connection was accepted: serve it or refuse it. An admitted one must be reported with
    /// ``sessionEnded()`` once closed.
    func connectionAccepted() -> ConnectionLimitState.Decision {
        let (decision, warn) = locked.withLock { locked -> (ConnectionLimitState.Decision, Bool) in
            var spare = locked.spare
            let decision = locked.state.connectionAccepted {
                if spare < 0 { spare = Self.openSpare() }
                return spare >= 0
            }
            locked.spare = spare
            guard case .refuse = decision else { return (decision, false) }
            return (decision, Self.warningDue(&locked.lastWarning))
        }
        if warn, case .refuse(let refusal) = decision {
            switch refusal {
            case .sessionLimit:
                logger.warning(
                    "service(lmtp): \(limitDescription) reached, client connections are being refused (421 4.3.2 Too many connections)")
            case .descriptorLimit:
                logger.warning(
                    "service(lmtp): out of file descriptors (RLIMIT_NOFILE \(Self.descriptorLimit())), client connections are being refused (421 4.3.2 Too many connections)")
            }
        }
        return decision
    }

    /// An admitted connection is closed.
    func sessionEnded() {
        locked.withLock { locked in
            locked.state.sessionEnded()
            Self.recoverSpare(&locked)
        }
    }

    /// A refused connection is closed: its descriptor is free again.
    func refusedConnectionClosed() {
        locked.withLock { Self.recoverSpare(&$0) }
    }

    /// `accept` failed with `errno`; for `EMFILE`/`ENFILE` the spare descriptor is given up.
    func acceptFailed(errno code: Int32) {
        guard code == EMFILE || code == ENFILE else { return }
        let warn = locked.withLock { locked -> Bool in
            if locked.state.acceptFailedForDescriptors(), locked.spare >= 0 {
                _ = Glibc.close(locked.spare)
                locked.spare = -1
            }
            return Self.warningDue(&locked.lastWarning)
        }
        if warn {
            logger.warning(
                "accept failed: \(String(cString: strerror(code))) (RLIMIT_NOFILE \(Self.descriptorLimit())): new connections are refused with 421 until descriptors are free; sessions in progress go on")
        }
    }

    // MARK: - Pieces

    private static func recoverSpare(_ locked: inout Locked) {
        guard locked.state.descriptorsExhausted else { return }
        if locked.spare < 0 { locked.spare = openSpare() }
        if locked.spare >= 0 { locked.state.spareRecovered() }
    }

    private static func openSpare() -> Int32 {
        Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    /// At most one warning a second, as Dovecot's master process warns about its limits.
    private static func warningDue(_ last: inout ContinuousClock.Instant?) -> Bool {
        let now = ContinuousClock.now
        if let previous = last, previous.duration(to: now) < .seconds(1) { return false }
        last = now
        return true
    }

    private static func descriptorLimit() -> String {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return "unknown" }
        return String(limit.rlim_cur)
    }
}
