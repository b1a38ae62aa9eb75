import Synchronization

/// How many copies to one user may be on the storage pool at once.
///
/// A copy waits on the storage pool's thread while the `maildirsize` lock is held by another
/// process (up to `mail_max_lock_timeout`), so without a bound one locked maildir could take
/// every thread of the pool and stall the deliveries to everyone else. Copies past the bound
/// wait here, without a thread, and go on in arrival order as earlier ones finish. Deliveries
/// to one user with quota on are serialised by that lock anyway, so the bound costs them
/// nothing; without quota it caps one user's share of the pool.
///
/// The wait here counts against the copy's lock timeout: a copy gives up at its deadline,
/// whether it is still waiting for a slot or already waiting for the lock, so that twenty
/// copies queued behind a locked maildir all get their temporary failure after about
/// `mail_max_lock_timeout`, not the last one after twenty times the lock waits before it.
final class UserStorageSlots: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running: [String: Int] = [:]
        var waiting: [String: [Waiter]] = [:]
        var nextID: UInt64 = 0
    }

    /// Copies per user at once (at least 1).
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `body` once one of `user`'s slots is free; `nil` (without running it) when
    /// `deadline` passes first.
    func withSlot<T>(
        for user: String, deadline: ContinuousClock.Instant? = nil, _ body: () async -> T
    ) async -> T? {
        guard await acquire(user, deadline: deadline) else { return nil }
        let result = await body()
        release(user)
        return result
    }

    /// How many copies of `user` wait for a slot (for tests).
    func waitingCount(for user: String) -> Int {
        state.withLock { $0.waiting[user]?.count ?? 0 }
    }

    private func acquire(_ user: String, deadline: ContinuousClock.Instant?) async -> Bool {
        var timer: Task<Void, Never>?
        let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let queued = state.withLock { state -> UInt64? in
                let running = state.running[user, default: 0]
                if running < limit {
                    state.running[user] = running + 1
                    return nil
                }
                state.nextID += 1
                state.waiting[user, default: []].append(Waiter(id: state.nextID, continuation: continuation))
                return state.nextID
            }
            guard let queued else {
                continuation.resume(returning: true)
                return
            }
            if let deadline {
                timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard !Task.isCancelled else { return }
                    self?.giveUp(user, id: queued)
                }
            }
        }
        timer?.cancel()
        return granted
    }

    /// A waiter's deadline passed: it leaves the queue (unless a slot reached it just now).
    private func giveUp(_ user: String, id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard var queue = state.waiting[user], let index = queue.firstIndex(where: { $0.id == id }) else {
                return nil
            }
            let waiter = queue.remove(at: index)
            state.waiting[user] = queue.isEmpty ? nil : queue
            return waiter
        }
        waiter?.continuation.resume(returning: false)
    }

    private func release(_ user: String) {
        let next = state.withLock { state -> Waiter? in
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
        next?.continuation.resume(returning: true)
    }
}
