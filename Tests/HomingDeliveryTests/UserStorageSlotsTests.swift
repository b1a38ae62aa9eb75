import Synchronization
import Testing

@testable import HomingDelivery

/// The per-user bound on copies at once: in arrival order, and a waiter past its deadline
/// leaves the queue without taking a slot from anyone.
@Suite("UserStorageSlots")
struct UserStorageSlotsTests {
    @Test("past its deadline a waiter gives up without running; the slots stay usable and other users are not held up")
    func deadline() async throws {
        let slots = UserStorageSlots(limit: 1)
        let release = AsyncStream<Void>.makeStream()
        // alice's one slot is held until `release` says.
        let holder = Task {
            await slots.withSlot(for: "alice") {
                for await _ in release.stream { break }
                return "first"
            }
        }
        while slots.waitingCount(for: "alice") == 0 {
            // Queue a waiter only once the holder has the slot.
            let waiter = Task { await slots.withSlot(for: "alice", deadline: .now + .milliseconds(300)) { "second" } }
            let started = ContinuousClock.now
            let result = await waiter.value
            if result == nil {
                #expect(ContinuousClock.now - started >= .milliseconds(250))
                break
            }
            // The holder had not got the slot yet: try again.
        }
        #expect(slots.waitingCount(for: "alice") == 0, "the waiter that gave up left the queue")
        // Another user is not affected.
        #expect(await slots.withSlot(for: "bob") { "bob" } == "bob")
        // A waiter without a deadline gets the slot when the holder lets go.
        let patient = Task { await slots.withSlot(for: "alice") { "third" } }
        while slots.waitingCount(for: "alice") == 0 { try await Task.sleep(for: .milliseconds(10)) }
        release.continuation.yield()
        #expect(await holder.value == "first")
        #expect(await patient.value == "third")
        // And the slot is free again afterwards.
        #expect(await slots.withSlot(for: "alice", deadline: .now + .seconds(5)) { "fourth" } == "fourth")
    }

    @Test("100 waiters with deadlines racing releases: each runs or gives up, none twice, and no slot is lost")
    func raceWithReleases() async throws {
        let slots = UserStorageSlots(limit: 2)
        let counts = Counts()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let result = await slots.withSlot(for: "alice", deadline: .now + .milliseconds(index % 7 * 5)) { () async -> Int in
                        try? await Task.sleep(for: .milliseconds(2))
                        return index
                    }
                    if result == nil {
                        counts.gaveUp.add(1, ordering: .relaxed)
                    } else {
                        counts.ran.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(counts.ran.load(ordering: .relaxed) + counts.gaveUp.load(ordering: .relaxed) == 100)
        #expect(slots.waitingCount(for: "alice") == 0)
        // Both slots are free: two holders at once get them without waiting.
        let both = await withTaskGroup(of: Int?.self) { group -> [Int?] in
            for index in 0..<2 {
                group.addTask { await slots.withSlot(for: "alice", deadline: .now + .milliseconds(100)) { index } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(both.allSatisfy { $0 != nil }, "\(both)")
    }

    final class Counts: Sendable {
        let ran = Atomic<Int>(0)
        let gaveUp = Atomic<Int>(0)
    }
}
