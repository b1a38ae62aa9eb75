/// Which connections the LMTP server takes, as a pure value: at most `limit` sessions at once
/// (`service lmtp { process_limit × client_limit }`), and none while the process is out of file
/// descriptors. ``ConnectionAdmission`` holds it behind a lock and does the I/O.
struct ConnectionLimitState: Sendable, Hashable {
    /// Why a connection is refused.
    enum Refusal: Sendable, Hashable {
        /// `limit` sessions are being served already.
        case sessionLimit
        /// `accept` failed with `EMFILE`/`ENFILE` and no descriptor has been given back since.
        case descriptorLimit
    }

    /// What to do with a connection just accepted.
    enum Decision: Sendable, Hashable {
        /// Serve it (it counts until ``ConnectionLimitState/sessionEnded()``).
        case admit
        /// Answer `421 4.3.2 ... Too many connections` and close it.
        case refuse(Refusal)
    }

    /// The most sessions served at once.
    let limit: Int
    /// Sessions being served.
    private(set) var active = 0
    /// The process ran out of descriptors (the spare one is given up) and has not yet got one
    /// back.
    private(set) var descriptorsExhausted = false

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// A connection was accepted. `spareRecovered` says whether the spare descriptor could be
    /// opened again (asked only while descriptors are exhausted).
    mutating func connectionAccepted(spareRecovered: () -> Bool) -> Decision {
        if descriptorsExhausted {
            guard spareRecovered() else { return .refuse(.descriptorLimit) }
            descriptorsExhausted = false
        }
        guard active < limit else { return .refuse(.sessionLimit) }
        active += 1
        return .admit
    }

    /// An admitted connection is closed.
    mutating func sessionEnded() {
        active = max(0, active - 1)
    }

    /// `accept` failed for want of descriptors. Returns true when this is news: then give up
    /// the spare descriptor, so that the next accept has one to refuse the client cleanly with.
    mutating func acceptFailedForDescriptors() -> Bool {
        defer { descriptorsExhausted = true }
        return !descriptorsExhausted
    }

    /// A descriptor was given back (a connection closed) and the spare one is open again.
    mutating func spareRecovered() {
        descriptorsExhausted = false
    }
}
