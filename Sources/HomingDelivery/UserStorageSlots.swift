import Synchronization

/// How many copies to one user may be on the storage pool at once.
///
/// A copy waits on the storage pool's thread while the `maildirsize` lock is held by another
/// process (up to `mail_max_lock_timeout`), so without a bound one locked maildir could take
/// every thread of the pool and stall the deliveries to everyone else. Copies past the bound
/// wait here, without a thread, and go on in arrival order as earlier ones finish. Deliveries
/// to one user with quota on are serialised by that lock anyway, so the bound costs them
/// nothing; without quota it caps one user's share of the pool.
final class UserStorageSlots: Sendable {
    private struct State {
        var running: [String: Int] = [:]
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    /// Copies per user at once (at least 1).
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `body` once one of `user`'s slots is free.
    func withSlot<T>(for user: String, _ body: () async -> T) async -> T {
        await acquire(user)
        let result = await body()
        release(user)
        return result
    }

    private func acquire(_ user: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let runNow = state.withLock { state -> Bool in
                let running = state.running[user, default: 0]
                if running < limit {
                    state.running[user] = running + 1
                    return true
                }
                state.waiting[user, default: []].append(continuation)
                return false
            }
            if runNow { continuation.resume() }
        }
    }

    private func release(_ user: String) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if var queue = state.waiting[user], !queue.isEmpty {
                // The slot passes to the next waiter: the running count stays.
                let next = queue.removeFirst()
                state.waiting[user] = queue.isEmpty ? nil : queue
                return next
            }
            let running = state.running[user, default: 1] - 1
            state.running[user] = running > 0 ? running : nil
            return nil
        }
        next?.resume()
    }
}
