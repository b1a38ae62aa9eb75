import HomingConfig
import HomingDelivery
import Logging

/// Turns `mail_plugins` into the delivery plugins that implement them.
public enum PluginSet {
    /// Plugins Dovecot has that Homing will implement; until then they are reported once at start.
    static let planned: [String: String] = [
        "quota": "quota is not enforced yet: messages are stored whatever the user's quota_rule",
        "sieve": "Sieve scripts are not run yet: every message is stored in INBOX (or its detail folder)",
    ]

    /// The plugins for `settings.mailPlugins`, in order. Names Homing does not implement are
    /// logged as warnings, once each.
    public static func make(for settings: HomingSettings, logger: Logger) -> [any DeliveryPlugin] {
        var seen: Set<String> = []
        for name in settings.mailPlugins where seen.insert(name).inserted {
            if let note = planned[name] {
                logger.warning("mail_plugins: \(name): \(note)")
            } else {
                logger.warning("mail_plugins: \(name) is not a Homing plugin (ignored)")
            }
        }
        return []
    }
}
