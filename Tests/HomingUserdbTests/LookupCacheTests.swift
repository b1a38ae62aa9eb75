import HomingConfig
import HomingTestSupport
import HomingUserdb
import Logging
import Synchronization
import Testing

/// The auth cache's rules: freshness by TTL, negative entries, no cached temporary failures,
/// expired entries as the fallback when the back end fails, the size bound.
@Suite("LookupCache")
struct LookupCacheTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let now = Mutex(Duration.zero)
        func advance(_ by: Duration) { now.withLock { $0 += by } }
        var uptime: @Sendable () -> Duration { { [self] in now.withLock { $0 } } }
    }

    /// A back end that counts its calls and answers what the test sets.
    final class Backend: Sendable {
        let state = Mutex((calls: 0, answer: UserdbResult.notFound))
        func set(_ answer: UserdbResult) { state.withLock { $0.answer = answer } }
        var calls: Int { state.withLock { $0.calls } }
        func lookup() -> UserdbResult {
            state.withLock { state in
                state.calls += 1
                return state.answer
            }
        }
    }

    static let alice = UserdbRequest(user: "alice@example.com")
    static let found = UserdbResult.found(UserRecord(user: "alice@example.com", fields: [UserdbField("home", "/var/vmail/alice")]))

    static func cache(
        maxBytes: Int64 = 1 << 20, ttl: Duration = .seconds(60), negativeTTL: Duration = .seconds(30),
        clock: ManualClock, log: LogRecorder? = nil
    ) -> LookupCache {
        LookupCache(
            limits: .init(maxBytes: maxBytes, ttl: ttl, negativeTTL: negativeTTL),
            logger: log?.logger ?? Logger(label: "test"), uptime: clock.uptime)
    }

    @Test("a fresh answer is served without asking the back end; after its TTL the back end is asked again")
    func freshness() async {
        let clock = ManualClock()
        let cache = Self.cache(clock: clock)
        let backend = Backend()
        backend.set(Self.found)
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == Self.found)
        clock.advance(.seconds(59))
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == Self.found)
        #expect(backend.calls == 1)
        #expect(cache.counts == (hits: 1, misses: 1))
        clock.advance(.seconds(1))
        let changed = UserdbResult.found(UserRecord(user: "alice@example.com", fields: [UserdbField("home", "/new")]))
        backend.set(changed)
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == changed)
        #expect(backend.calls == 2)
    }

    @Test("not-found answers live for the negative TTL, and are not kept at all when it is 0")
    func negative() async {
        let clock = ManualClock()
        let cache = Self.cache(clock: clock)
        let backend = Backend()
        _ = await cache.answer(Self.alice, in: .userdb) { backend.lookup() }
        clock.advance(.seconds(29))
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == .notFound)
        #expect(backend.calls == 1)
        clock.advance(.seconds(1))
        _ = await cache.answer(Self.alice, in: .userdb) { backend.lookup() }
        #expect(backend.calls == 2)

        let none = Self.cache(negativeTTL: .zero, clock: clock)
        _ = await none.answer(Self.alice, in: .userdb) { backend.lookup() }
        _ = await none.answer(Self.alice, in: .userdb) { backend.lookup() }
        #expect(backend.calls == 4)
        #expect(none.usage.entries == 0)
    }

    @Test("a temporary failure is never cached; with an expired entry it falls back to it (logged), without one it stays a failure")
    func fallback() async {
        let clock = ManualClock()
        let log = LogRecorder()
        let cache = Self.cache(clock: clock, log: log)
        let backend = Backend()
        backend.set(.temporaryFailure(reason: "cannot connect"))
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == .temporaryFailure(reason: "cannot connect"))
        #expect(cache.usage.entries == 0)

        backend.set(Self.found)
        _ = await cache.answer(Self.alice, in: .userdb) { backend.lookup() }
        clock.advance(.seconds(5 * 3600))
        backend.set(.temporaryFailure(reason: "cannot connect"))
        #expect(await cache.answer(Self.alice, in: .userdb) { backend.lookup() } == Self.found)
        #expect(log.lines.contains { $0.message.contains("userdb(alice@example.com): Falling back to expired data from cache (lookup failed: cannot connect)") })
        // The fallback does not refresh the entry: the next lookup asks again.
        let calls = backend.calls
        _ = await cache.answer(Self.alice, in: .userdb) { backend.lookup() }
        #expect(backend.calls == calls + 1)

        // An expired "unknown" is a fallback as well (Dovecot's rule).
        let bob = UserdbRequest(user: "bob@example.com")
        backend.set(.notFound)
        _ = await cache.answer(bob, in: .userdb) { backend.lookup() }
        clock.advance(.seconds(3600))
        backend.set(.temporaryFailure(reason: "down"))
        #expect(await cache.answer(bob, in: .userdb) { backend.lookup() } == .notFound)
    }

    @Test("past auth_cache_size the least recently used entries go; an entry bigger than the limit is not kept")
    func sizeBound() async {
        let clock = ManualClock()
        let one = LookupCache.entryOverhead + 200
        let cache = Self.cache(maxBytes: Int64(3 * one), clock: clock)
        func request(_ n: Int) -> UserdbRequest { UserdbRequest(user: "user\(n)@example.com") }
        func record(_ n: Int) -> UserdbResult {
            .found(UserRecord(user: "user\(n)@example.com", fields: [UserdbField("home", String(repeating: "h", count: 100))]))
        }
        for n in 0..<3 { cache.store(record(n), for: request(n), in: .userdb) }
        #expect(cache.usage.entries == 3)
        // Using user0 makes user1 the least recently used.
        #expect(cache.cached(request(0), in: .userdb) != nil)
        cache.store(record(3), for: request(3), in: .userdb)
        #expect(cache.cached(request(1), in: .userdb) == nil)
        #expect(cache.cached(request(0), in: .userdb) != nil)
        #expect(cache.cached(request(3), in: .userdb) != nil)
        #expect(cache.usage.bytes <= Int64(3 * one))

        let huge = UserdbResult.found(UserRecord(user: "big", fields: [UserdbField("x", String(repeating: "x", count: 4 * one))]))
        cache.store(huge, for: UserdbRequest(user: "big"), in: .userdb)
        #expect(cache.cached(UserdbRequest(user: "big"), in: .userdb) == nil)
        #expect(cache.usage.entries == 3)
    }

    @Test("userdb and passdb answers for the same name are kept apart; flush forgets everything")
    func databasesApart() async {
        let clock = ManualClock()
        let cache = Self.cache(clock: clock)
        cache.store(Self.found, for: Self.alice, in: .userdb)
        #expect(cache.cached(Self.alice, in: .passdb) == nil)
        let proxy = UserdbResult.found(UserRecord(user: "alice@example.com", fields: [UserdbField("proxy", "y")]))
        cache.store(proxy, for: Self.alice, in: .passdb)
        #expect(cache.cached(Self.alice, in: .passdb)?.result == proxy)
        #expect(cache.cached(Self.alice, in: .userdb)?.result == Self.found)
        cache.flush()
        #expect(cache.usage.entries == 0 && cache.usage.bytes == 0)
    }

    @Test("auth_cache_size 0 (the default) means no cache; the settings parse as Dovecot writes them")
    func settings() throws {
        var settings = HomingSettings()
        #expect(LookupCache.Limits(settings: settings) == nil)
        settings.authCacheSize = 10 << 20
        settings.authCacheTTL = 120
        settings.authCacheNegativeTTL = 0
        #expect(LookupCache.Limits(settings: settings) == .init(maxBytes: 10 << 20, ttl: .seconds(120), negativeTTL: .zero))
    }
}
