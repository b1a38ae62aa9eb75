import HomingConfig
import HomingDelivery
import HomingQuotaPlugin
import HomingSievePlugin
import Logging
import NIOPosix

/// Turns `mail_plugins` into the delivery plugins that implement them.
public enum PluginSet {
    /// The plugins for `settings.mailPlugins`, in order. Names Homing does not implement are
    /// logged as warnings, once each.
    /// - Throws: `ConfigError` (`plugin { }: ...`) when a plugin's settings do not parse.
    public static func make(
        for settings: HomingSettings, hostname: String, threadPool: NIOThreadPool, sieveThreads: Int, logger: Logger
    ) throws(ConfigError) -> [any DeliveryPlugin] {
        var seen: Set<String> = []
        var plugins: [any DeliveryPlugin] = []
        for name in settings.mailPlugins where seen.insert(name).inserted {
            do {
                switch name {
                case "quota":
                    plugins.append(try QuotaPlugin(settings: settings, threadPool: threadPool, logger: logger))
                case "sieve":
                    plugins.append(
                        try SievePlugin(settings: settings, hostname: hostname, threads: sieveThreads, logger: logger))
                default:
                    logger.warning("mail_plugins: \(name) is not a Homing plugin (ignored)")
                }
            } catch {
                throw ConfigError("plugin { }: \(error)")
            }
        }
        return plugins
    }
}
