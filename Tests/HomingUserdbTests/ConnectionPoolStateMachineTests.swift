import Testing

@testable import HomingUserdb

@Suite("the connection pool's bookkeeping")
struct ConnectionPoolStateMachineTests {
    typealias Machine = ConnectionPoolStateMachine<String>
    let start = ContinuousClock.now

    func machine(max: Int = 2) -> Machine {
        Machine(configuration: .init(maxConnections: max, initialBackoff: .seconds(1), maxBackoff: .seconds(8)))
    }

    @Test("the first request opens a connection and gets it when it is open")
    func lazyOpen() {
        var pool = machine()
        #expect(pool.total == 0)
        let first = pool.leaseRequested(waiter: 1, now: start)
        #expect(first.opens == 1)
        #expect(first.deliveries.isEmpty)
        let opened = pool.opened("c1", now: start)
        #expect(opened.deliveries.map(\.waiter) == [1])
        #expect(opened.deliveries.map(\.connection) == ["c1"])
        #expect(opened.deliveries.map(\.reused) == [false])
        #expect(pool.leased == 1)
    }

    @Test("a released connection is reused by the next request")
    func reuse() {
        var pool = machine()
        _ = pool.leaseRequested(waiter: 1, now: start)
        _ = pool.opened("c1", now: start)
        _ = pool.released("c1", reusable: true, dropIdle: false, now: start)
        #expect(pool.idle == ["c1"])
        let second = pool.leaseRequested(waiter: 2, now: start)
        #expect(second.opens == 0)
        #expect(second.deliveries.map(\.connection) == ["c1"])
        #expect(second.deliveries.map(\.reused) == [true])
    }

    @Test("never more than maxConnections; further requests wait for a release")
    func limit() {
        var pool = machine(max: 2)
        #expect(pool.leaseRequested(waiter: 1, now: start).opens == 1)
        #expect(pool.leaseRequested(waiter: 2, now: start).opens == 1)
        #expect(pool.leaseRequested(waiter: 3, now: start).opens == 0)
        _ = pool.opened("c1", now: start)
        _ = pool.opened("c2", now: start)
        #expect(pool.total == 2)
        #expect(pool.waiters == [3])
        let released = pool.released("c1", reusable: true, dropIdle: false, now: start)
        #expect(released.deliveries.map(\.waiter) == [3])
        #expect(released.deliveries.map(\.connection) == ["c1"])
    }

    @Test("a broken connection is closed and a waiting request gets a new one opened")
    func brokenReplaced() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(waiter: 1, now: start)
        _ = pool.opened("c1", now: start)
        _ = pool.leaseRequested(waiter: 2, now: start)
        let released = pool.released("c1", reusable: false, dropIdle: false, now: start)
        #expect(released.closes == ["c1"])
        #expect(released.opens == 1)
        #expect(pool.total == 1)
    }

    @Test("dropIdle closes the idle connections too")
    func dropIdle() {
        var pool = machine(max: 3)
        for waiter in 1...3 { _ = pool.leaseRequested(waiter: waiter, now: start) }
        for name in ["c1", "c2", "c3"] { _ = pool.opened(name, now: start) }
        _ = pool.released("c1", reusable: true, dropIdle: false, now: start)
        _ = pool.released("c2", reusable: true, dropIdle: false, now: start)
        let released = pool.released("c3", reusable: false, dropIdle: true, now: start)
        #expect(Set(released.closes) == ["c1", "c2", "c3"])
        #expect(pool.total == 0)
    }

    @Test("a failed open fails the waiters at once and later requests until the back-off ends")
    func failFastDuringBackoff() {
        var pool = machine(max: 2)
        _ = pool.leaseRequested(waiter: 1, now: start)
        let failed = pool.openFailed(reason: "cannot connect: refused", now: start)
        #expect(failed.failures.map(\.waiter) == [1])
        #expect(failed.failures.map(\.reason) == ["cannot connect: refused (next connection attempt in 1.0 s)"])
        let during = pool.leaseRequested(waiter: 2, now: start + .milliseconds(500))
        #expect(during.opens == 0)
        #expect(during.failures.map(\.reason) == ["cannot connect: refused (next connection attempt in 0.5 s)"])
        let after = pool.leaseRequested(waiter: 3, now: start + .seconds(1))
        #expect(after.opens == 1)
        #expect(after.failures.isEmpty)
    }

    @Test("the back-off doubles up to the maximum and is forgotten after a success")
    func backoffGrowth() {
        var pool = machine()
        #expect(pool.backoff(afterFailures: 1) == .seconds(1))
        #expect(pool.backoff(afterFailures: 2) == .seconds(2))
        #expect(pool.backoff(afterFailures: 4) == .seconds(8))
        #expect(pool.backoff(afterFailures: 40) == .seconds(8))
        var now = start
        for _ in 1...3 {
            _ = pool.leaseRequested(waiter: 1, now: now)
            _ = pool.openFailed(reason: "down", now: now)
            now = now + .seconds(60)
        }
        #expect(pool.consecutiveFailures == 3)
        #expect(pool.retryNotBefore == start + .seconds(120) + .seconds(4))
        _ = pool.leaseRequested(waiter: 2, now: now)
        _ = pool.opened("c1", now: now)
        #expect(pool.consecutiveFailures == 0)
        #expect(pool.retryNotBefore == nil)
    }

    @Test("after a failure only one connection is opened at a time until one succeeds")
    func probe() {
        var pool = machine(max: 3)
        _ = pool.leaseRequested(waiter: 1, now: start)
        _ = pool.openFailed(reason: "down", now: start)
        let later = start + .seconds(2)
        #expect(pool.leaseRequested(waiter: 2, now: later).opens == 1)
        #expect(pool.leaseRequested(waiter: 3, now: later).opens == 0)
        let opened = pool.opened("c1", now: later)
        #expect(opened.deliveries.map(\.waiter) == [2])
        #expect(opened.opens == 1)
    }

    @Test("a waiter that times out is failed once; a late one is ignored")
    func timeout() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(waiter: 1, now: start)
        #expect(pool.timedOut(waiter: 1, reason: "late").failures.map(\.reason) == ["late"])
        #expect(pool.timedOut(waiter: 1, reason: "late").failures.isEmpty)
        let opened = pool.opened("c1", now: start)
        #expect(opened.deliveries.isEmpty)
        #expect(pool.idle == ["c1"])
    }

    @Test("shut down closes idle connections, fails waiters and refuses new requests")
    func shutDown() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(waiter: 1, now: start)
        _ = pool.opened("c1", now: start)
        _ = pool.leaseRequested(waiter: 2, now: start)
        let down = pool.shutDown()
        #expect(down.failures.map(\.waiter) == [2])
        let released = pool.released("c1", reusable: true, dropIdle: false, now: start)
        #expect(released.closes == ["c1"])
        #expect(pool.leaseRequested(waiter: 3, now: start).failures.map(\.reason) == ["the connection pool is shut down"])
    }
}
