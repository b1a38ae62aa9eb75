import HomingConfig
import HomingDelivery
import HomingUserdb
import Logging
import NIOPosix

/// What the server and the CLI share once a configuration is loaded: the thread pool for
/// blocking work, the userdb chain, and the recipient resolver built on them.
public final class HomingRuntime: Sendable {
    public let configuration: LoadedConfiguration
    public let threadPool: NIOThreadPool
    public let userdb: UserdbChain
    public let resolver: RecipientResolver
    public let logger: Logger

    /// Starts the thread pool and builds the userdbs. Configuration problems (an unknown
    /// driver, an unreadable dovecot-sql.conf.ext, an unknown `mail_uid`) throw `ConfigError`.
    public init(
        configuration: LoadedConfiguration, registry: UserdbDriverRegistry, logger: Logger,
        threads: Int = 16
    ) throws(ConfigError) {
        self.configuration = configuration
        self.logger = logger
        let pool = NIOThreadPool(numberOfThreads: max(4, threads))
        pool.start()
        let context = UserdbDriverContext(threadPool: pool, logger: logger, settings: configuration.settings)
        do {
            let chain = try UserdbChain(settings: configuration.settings, registry: registry, context: context)
            self.userdb = chain
            self.resolver = try RecipientResolver(settings: configuration.settings, users: chain)
        } catch {
            try? pool.syncShutdownGracefully()
            throw error
        }
        self.threadPool = pool
    }

    /// Closes userdb connections and stops the thread pool.
    public func shutdown() async {
        await userdb.shutdown()
        try? await threadPool.shutdownGracefully()
    }
}
