import HomingConfig
import Logging
import Synchronization

/// Dovecot's auth cache (`auth_cache_size`, `auth_cache_ttl`, `auth_cache_negative_ttl`) for
/// userdb and passdb answers: found users and, unless the negative TTL is 0, unknown ones.
///
/// A fresh answer (younger than its TTL) is used without asking the back end. An older one is
/// asked again, but kept: when the back end then fails temporarily (a directory failover, a
/// restarting server), the old answer is used instead of a 4xx ("Falling back to expired
/// data from cache", as Dovecot logs it). Temporary failures are never cached. Entries are
/// dropped least recently used first once their approximate size passes `auth_cache_size`.
///
/// One cache is shared by the userdb and the passdb; keys tell them apart. Thread-safe: a
/// short critical section under a mutex, never held across a lookup.
public final class LookupCache: Sendable {
    /// Which database an answer came from.
    public enum Database: String, Sendable, Hashable {
        case userdb
        case passdb
    }

    /// The limits, from the settings of the same names.
    public struct Limits: Sendable, Hashable {
        /// The most the entries may take, in bytes (approximate: names, values and overhead).
        public var maxBytes: Int64
        /// How long a found answer is fresh.
        public var ttl: Duration
        /// How long a not-found answer is fresh; `.zero` does not cache them.
        public var negativeTTL: Duration

        public init(maxBytes: Int64, ttl: Duration, negativeTTL: Duration) {
            self.maxBytes = maxBytes
            self.ttl = ttl
            self.negativeTTL = negativeTTL
        }

        /// `auth_cache_size`, `auth_cache_ttl` and `auth_cache_negative_ttl`; `nil` when
        /// `auth_cache_size` is 0 (no cache, Dovecot's default).
        public init?(settings: HomingSettings) {
            guard settings.authCacheSize > 0 else { return nil }
            self.init(
                maxBytes: settings.authCacheSize, ttl: .seconds(settings.authCacheTTL),
                negativeTTL: .seconds(settings.authCacheNegativeTTL))
        }
    }

    /// A cached answer and whether it is past its TTL.
    public struct Hit: Sendable, Hashable {
        public var result: UserdbResult
        public var expired: Bool
    }

    struct Key: Hashable, Sendable {
        var database: Database
        var request: UserdbRequest

        /// Bytes the key's strings take.
        var size: Int {
            request.user.utf8.count + request.service.utf8.count + (request.localIP?.utf8.count ?? 0)
                + (request.remoteIP?.utf8.count ?? 0) + (request.originalUser?.utf8.count ?? 0)
        }
    }

    struct Entry: Sendable {
        var result: UserdbResult
        var created: Duration
        var size: Int
        var older: Key?
        var newer: Key?
    }

    /// The entries with a doubly linked recency list through them (oldest to newest).
    struct State: Sendable {
        var entries: [Key: Entry] = [:]
        var oldest: Key?
        var newest: Key?
        var bytes: Int64 = 0
        var hits = 0
        var misses = 0

        mutating func unlink(_ key: Key) {
            guard let entry = entries[key] else { return }
            if let older = entry.older { entries[older]?.newer = entry.newer } else { oldest = entry.newer }
            if let newer = entry.newer { entries[newer]?.older = entry.older } else { newest = entry.older }
            entries[key]?.older = nil
            entries[key]?.newer = nil
        }

        mutating func linkNewest(_ key: Key) {
            entries[key]?.older = newest
            entries[key]?.newer = nil
            if let newest { entries[newest]?.newer = key } else { oldest = key }
            newest = key
        }

        mutating func remove(_ key: Key) {
            guard let entry = entries[key] else { return }
            unlink(key)
            entries[key] = nil
            bytes -= Int64(entry.size)
        }
    }

    /// Bytes counted per entry beyond its strings (the nodes and hash slots).
    public static let entryOverhead = 96

    public let limits: Limits
    private let state = Mutex(State())
    private let uptime: @Sendable () -> Duration
    private let logger: Logger

    /// A cache with `limits`. `uptime` is a monotonic clock (tests pass their own).
    public init(limits: Limits, logger: Logger, uptime: (@Sendable () -> Duration)? = nil) {
        self.limits = limits
        self.logger = logger
        if let uptime {
            self.uptime = uptime
        } else {
            let start = ContinuousClock.now
            self.uptime = { ContinuousClock.now - start }
        }
    }

    /// The number of entries and their approximate size in bytes.
    public var usage: (entries: Int, bytes: Int64) {
        state.withLock { ($0.entries.count, $0.bytes) }
    }

    /// Lookups answered from the cache (fresh entries) and lookups that went to the back end.
    public var counts: (hits: Int, misses: Int) {
        state.withLock { ($0.hits, $0.misses) }
    }

    /// The cached answer for `request`, fresh or expired, or `nil`.
    public func cached(_ request: UserdbRequest, in database: Database) -> Hit? {
        let key = Key(database: database, request: request)
        let now = uptime()
        return state.withLock { state -> Hit? in
            guard let entry = state.entries[key] else { return nil }
            state.unlink(key)
            state.linkNewest(key)
            let ttl = if case .notFound = entry.result { limits.negativeTTL } else { limits.ttl }
            return Hit(result: entry.result, expired: now - entry.created >= ttl)
        }
    }

    /// Keeps `result` for `request` (found, or not found with a non-zero negative TTL;
    /// temporary failures are ignored), dropping the least recently used entries past the
    /// size limit. An entry bigger than the whole limit is not kept.
    public func store(_ result: UserdbResult, for request: UserdbRequest, in database: Database) {
        switch result {
        case .temporaryFailure: return
        case .notFound where limits.negativeTTL == .zero: return
        default: break
        }
        let key = Key(database: database, request: request)
        let size = key.size + Self.size(of: result) + Self.entryOverhead
        guard Int64(size) <= limits.maxBytes else { return }
        let now = uptime()
        state.withLock { state in
            state.remove(key)
            state.entries[key] = Entry(result: result, created: now, size: size)
            state.linkNewest(key)
            state.bytes += Int64(size)
            while state.bytes > limits.maxBytes, let oldest = state.oldest {
                state.remove(oldest)
            }
        }
    }

    /// Forgets every entry.
    public func flush() {
        state.withLock { $0 = State() }
    }

    /// Answers `request` with Dovecot's cache rules around `lookup` (the back end): a fresh
    /// entry without asking; otherwise the back end's answer, cached, unless the back end fails
    /// temporarily and an expired entry is there to fall back to.
    public func answer(
        _ request: UserdbRequest, in database: Database, lookup: () async -> UserdbResult
    ) async -> UserdbResult {
        let hit = cached(request, in: database)
        if let hit, !hit.expired {
            state.withLock { $0.hits += 1 }
            return hit.result
        }
        state.withLock { $0.misses += 1 }
        let result = await lookup()
        if case .temporaryFailure(let reason) = result {
            if let hit {
                logger.warning(
                    "\(database.rawValue)(\(request.user)): Falling back to expired data from cache (lookup failed: \(reason))")
                return hit.result
            }
            return result
        }
        store(result, for: request, in: database)
        return result
    }

    static func size(of result: UserdbResult) -> Int {
        guard case .found(let record) = result else { return 0 }
        return record.user.utf8.count + record.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 16 }
    }
}

/// A userdb chain answering through a ``LookupCache``; listing users and tracing go to the chain.
public struct CachedUserdb: Sendable {
    public let chain: UserdbChain
    public let cache: LookupCache

    public init(chain: UserdbChain, cache: LookupCache) {
        self.chain = chain
        self.cache = cache
    }

    /// Looks one user up, from the cache when it has a fresh answer.
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        await cache.answer(request, in: .userdb) { await chain.lookup(request) }
    }

    /// Looks one user up; a cached answer reports no trace steps (no userdb was asked).
    public func lookup(_ request: UserdbRequest, trace: UserdbTrace?) async -> UserdbResult {
        await cache.answer(request, in: .userdb) { await chain.lookup(request, trace: trace) }
    }
}

/// A passdb answering through a ``LookupCache`` shared with the userdb.
public struct CachedPassdb: PassdbLookup {
    public let passdb: any PassdbLookup
    public let cache: LookupCache

    public init(wrapping passdb: any PassdbLookup, cache: LookupCache) {
        self.passdb = passdb
        self.cache = cache
    }

    public func lookupPassdb(_ request: UserdbRequest) async -> UserdbResult {
        await cache.answer(request, in: .passdb) { await passdb.lookupPassdb(request) }
    }

    public func shutdown() async {
        await passdb.shutdown()
    }
}
