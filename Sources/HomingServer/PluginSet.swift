import HomingConfig
import HomingDelivery
import Logging
import NIOPosix

/// Turns `mail_plugins` into the delivery plugins that implement them.
public enum PluginSet {
    /// A plugin whose configuration is wrong: start-up stops with this message.
    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The plugins for `settings.mailPlugins`, in order. Names Homing does not implement are
    /// logged as warnings, once each.
    /// - Throws: ``ConfigurationError`` when a plugin's settings do not parse.
    public static func make(
        for settings: HomingSettings, threadPool: NIOThreadPool, logger: Logger
    ) throws(ConfigurationError) -> [any DeliveryPlugin] {
        var seen: Set<String> = []
        var plugins: [any DeliveryPlugin] = []
        for name in settings.mailPlugins where seen.insert(name).inserted {
            switch name {
            case "quota":
                do {
                    plugins.append(try QuotaPlugin(settings: settings, threadPool: threadPool, logger: logger))
                } catch {
                    throw ConfigurationError(description: "plugin { }: \(error)")
                }
            case "sieve":
                do {
                    plugins.append(
                        try SievePlugin(
                            settings: settings, hostname: settings.hostname ?? LocalDelivery.systemHostname(),
                            logger: logger))
                } catch {
                    throw ConfigurationError(description: "plugin { }: \(error)")
                }
            default:
                logger.warning("mail_plugins: \(name) is not a Homing plugin (ignored)")
            }
        }
        return plugins
    }
}
