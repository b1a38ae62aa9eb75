import HomingConfig
import HomingDSN
import HomingDelivery
import HomingLMTP
import HomingProxy
import HomingQuotaPlugin
import HomingServer
import HomingSievePlugin
import HomingUserdb
import HomingUserdbLDAP
import HomingUserdbSQL
import Logging
import NIOCore
import NIOPosix

/// The program a loaded configuration describes, built once and used by `serve` and by every
/// CLI command: the thread pool for blocking work, the userdb chain and the recipient
/// resolver on it, the `mail_plugins`, and the delivery core. This is the only place where
/// these pieces are wired together.
public final class HomingRuntime: Sendable {
    /// What was loaded.
    public let configuration: LoadedConfiguration
    /// The host name Homing introduces itself with (``HomingSettings/effectiveHostname``).
    public let hostname: String
    /// The pool blocking storage work runs on (spool writes, maildir copies, fsyncs, the
    /// quota lock).
    public let threadPool: NIOThreadPool
    /// The userdb drivers' own pool (file reads, SQL and LDAP connects and queries): a back end
    /// that hangs fills this one, never the storage pool.
    public let userdbThreadPool: NIOThreadPool
    /// The pool outgoing mail (delivery notifications) is handed over on, so a slow
    /// `submission_host` or `sendmail_path` holds up neither storage nor lookups.
    public let outgoingThreadPool: NIOThreadPool
    /// The `userdb { }` blocks.
    public let userdb: UserdbChain
    /// The `passdb { }` blocks (other than `master = yes` ones), for LMTP proxying's per-RCPT
    /// lookup of `proxy`, `host`, `port`...; nil when none is configured or when it could not
    /// be built (see ``passdbProblem``). Built on the userdb pool with the same drivers
    /// (``userdbDrivers``) in passdb mode. Nothing looks it up unless the LMTP server proxies.
    public let passdb: PassdbChain?
    /// Why the configured passdb could not be built (a `driver = pam` Homing does not have, a
    /// sql passdb without `password_query`...). Not an error by itself: a Dovecot configuration
    /// always has a passdb, which only matters with `lmtp_proxy = yes` (see ``requirePassdb()``).
    public let passdbProblem: ConfigError?
    /// The auth cache (`auth_cache_size` above 0) the resolver's userdb lookups and
    /// ``passdbLookup`` answer through; `nil` without one. Each process has its own, empty at
    /// start: the CLI's one-shot commands see what the userdb says now.
    public let lookupCache: LookupCache?

    /// The passdb as the LMTP proxy asks it: ``passdb`` through ``lookupCache`` when there is one.
    public var passdbLookup: (any PassdbLookup)? {
        guard let passdb else { return nil }
        guard let lookupCache else { return passdb }
        return CachedPassdb(wrapping: passdb, cache: lookupCache)
    }
    /// Recipient addresses to users.
    public let resolver: RecipientResolver
    /// The `mail_plugins`, in order.
    public let plugins: [any DeliveryPlugin]
    /// The delivery core.
    public let delivery: LocalDelivery
    /// How Homing's own reports leave (`submission_host` or `sendmail_path`).
    public let submitter: NotificationSubmitter
    public let logger: Logger
    /// Idle connections to proxy destinations (`lmtp_proxy = yes`), closed at ``shutdown()``.
    public let proxyPool = ProxyConnectionPool()

    /// The effective settings.
    public var settings: HomingSettings { configuration.settings }

    /// Starts the thread pool and builds the userdbs and plugins. A configuration problem (an
    /// unknown driver, an unreadable dovecot-sql.conf.ext, an unknown `mail_uid`, a plugin
    /// setting that does not parse) throws, with nothing left running.
    /// - Parameters:
    ///   - threads: the blocking-work pool's size (at least 4).
    ///   - sieveThreads: the Sieve plugin's own pool.
    ///   - userdbThreads: the userdb drivers' pool (at least 2).
    public init(
        configuration: LoadedConfiguration, logger: Logger, threads: Int = 16, sieveThreads: Int = 8,
        userdbThreads: Int = 8
    ) throws(ConfigError) {
        self.configuration = configuration
        self.logger = logger
        let settings = configuration.settings
        let hostname = settings.effectiveHostname
        self.hostname = hostname
        let pool = NIOThreadPool(numberOfThreads: max(4, threads))
        pool.start()
        let userdbPool = NIOThreadPool(numberOfThreads: max(2, userdbThreads))
        userdbPool.start()
        let outgoingPool = NIOThreadPool(numberOfThreads: 2)
        outgoingPool.start()
        let context = UserdbDriverContext(threadPool: userdbPool, logger: logger, settings: settings)
        do {
            let chain = try UserdbChain(settings: settings, registry: Self.userdbDrivers, context: context)
            var passdbContext = context
            passdbContext.role = .passdb
            var passdb: PassdbChain?
            var passdbProblem: ConfigError?
            if PassdbChain.isConfigured(in: settings) {
                do {
                    passdb = try PassdbChain(settings: settings, registry: Self.userdbDrivers, context: passdbContext)
                } catch {
                    passdbProblem = error
                    logger.debug("passdb not available for lookups: \(error)")
                }
            }
            let cache = LookupCache.Limits(settings: settings).map {
                LookupCache(limits: $0, logger: logger)
            }
            let users: any UserLookup = if let cache { CachedUserdb(chain: chain, cache: cache) } else { chain }
            let resolver = try RecipientResolver(settings: settings, users: users)
            self.lookupCache = cache
            let plugins = try PluginSet.make(
                for: settings, hostname: hostname, threadPool: pool, sieveThreads: sieveThreads, logger: logger)
            let submitter = try NotificationSubmitter(settings: settings, hostname: hostname)
            let notifier = SuccessNotifier(
                hostname: hostname, fromAddress: settings.postmasterAddress ?? "postmaster@\(hostname)",
                submitter: submitter, threadPool: outgoingPool, logger: logger)
            self.userdb = chain
            self.passdb = passdb
            self.passdbProblem = passdbProblem
            self.resolver = resolver
            self.plugins = plugins
            self.submitter = submitter
            self.delivery = LocalDelivery(
                settings: settings, hostname: hostname, resolver: resolver, threadPool: pool, plugins: plugins,
                notifier: notifier, logger: logger, perUserStorageLimit: max(1, threads / 4))
        } catch {
            try? pool.syncShutdownGracefully()
            try? userdbPool.syncShutdownGracefully()
            try? outgoingPool.syncShutdownGracefully()
            throw error
        }
        self.threadPool = pool
        self.userdbThreadPool = userdbPool
        self.outgoingThreadPool = outgoingPool
    }

    /// The passdb, for a feature that needs one (`lmtp_proxy = yes`): the error that kept it from
    /// being built, or one saying that no `passdb { }` block is configured.
    public func requirePassdb() throws(ConfigError) -> PassdbChain {
        if let passdb { return passdb }
        if let passdbProblem { throw passdbProblem }
        throw ConfigError(
            "lmtp_proxy = yes needs a passdb { } block to look recipients up in (for example passdb { driver = sql "
                + "args = /etc/dovecot/dovecot-sql.conf.ext } with a password_query returning proxy, host and port)")
    }

    /// The userdb drivers this build knows: the file-based ones, sql and ldap.
    public static var userdbDrivers: UserdbDriverRegistry {
        var registry = UserdbDriverRegistry.builtIn
        SQLUserdb.register(in: &registry)
        LDAPUserdb.register(in: &registry)
        return registry
    }

    /// The Sieve plugin, when `mail_plugins` has `sieve`.
    public var sieve: SievePlugin? { plugins.lazy.compactMap { $0 as? SievePlugin }.first }

    /// The quota plugin, when `mail_plugins` has `quota`.
    public var quota: QuotaPlugin? { plugins.lazy.compactMap { $0 as? QuotaPlugin }.first }

    /// The LMTP service for `serve`, on this runtime's delivery core (see ``LMTPServer``).
    public func makeServer(
        idleTimeout: TimeAmount = .minutes(5), onListening: @escaping @Sendable () -> Void = {},
        onRetire: @escaping @Sendable () async -> Void = {}
    ) -> LMTPServer {
        LMTPServer(
            delivery: delivery, settings: settings, logger: logger, idleTimeout: idleTimeout, onListening: onListening,
            onRetire: onRetire, backend: lmtpBackend)
    }

    /// The backend LMTP sessions are served with when it is not plain local delivery: the
    /// LMTP proxy, with `lmtp_proxy = yes` and a `passdb { }` to look recipients up in.
    public var lmtpBackend: (any LMTPBackend)? {
        guard settings.lmtpProxy, let passdb = passdbLookup else { return nil }
        return LMTPProxyBackend(
            local: LMTPLocalBackend(delivery: delivery), passdb: passdb, pool: proxyPool, logger: logger)
    }

    /// Closes userdb connections and stops the thread pools (the Sieve plugin's own pool stops
    /// when the plugin goes).
    public func shutdown() async {
        await userdb.shutdown()
        await passdb?.shutdown()
        await proxyPool.shutdown()
        try? await threadPool.shutdownGracefully()
        try? await userdbThreadPool.shutdownGracefully()
        try? await outgoingThreadPool.shutdownGracefully()
    }
}
