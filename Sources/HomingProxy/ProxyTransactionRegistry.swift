import Synchronization

/// The transactions of all sessions that have relays or local recipients, by transaction id,
/// from their first RCPT until they end.
final class ProxyTransactionRegistry: Sendable {
    struct Entry: Sendable {
        var transaction: ProxyTransaction?
        /// Local recipients accepted so far.
        var localCount = 0
        var hasLocal: Bool { localCount > 0 }
    }

    private let entries = Mutex<[String: Entry]>([:])

    func entry(_ id: String) -> Entry? {
        entries.withLock { $0[id] }
    }

    func markLocal(_ id: String) {
        entries.withLock { $0[id, default: Entry()].localCount += 1 }
    }

    /// The transaction's relays, created with `make` at its first relayed RCPT.
    func transaction(_ id: String, make: () -> ProxyTransaction) -> ProxyTransaction {
        entries.withLock { entries in
            if let existing = entries[id]?.transaction { return existing }
            let created = make()
            entries[id, default: Entry()].transaction = created
            return created
        }
    }

    func remove(_ id: String) -> Entry? {
        entries.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { entries.withLock { $0.count } }
}
