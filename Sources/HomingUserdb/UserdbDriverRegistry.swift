import HomingConfig

/// The userdb drivers Homing knows, by the name used in `userdb { driver = NAME }`. The same
/// drivers serve `passdb { driver = NAME }` blocks: a factory reads ``UserdbDriverContext/role``.
///
/// `builtIn` holds `static`, `passwd-file` and `passwd`; the SQL and LDAP targets add `sql` and
/// `ldap` with ``register(_:_:)`` before the chain is built.
public struct UserdbDriverRegistry: Sendable {
    /// Creates a driver from its `userdb { }` block. Throws a ``ConfigError`` (at the block's
    /// location) when the block's `args` are wrong.
    public typealias Factory =
        @Sendable (UserdbSettings, UserdbDriverContext) throws(ConfigError) -> any UserdbDriver

    private var factories: [String: Factory]

    /// An empty registry; ``builtIn`` is the usual starting point.
    public init() {
        factories = [:]
    }

    /// The drivers implemented in this module: `static`, `passwd-file` and `passwd`.
    public static var builtIn: UserdbDriverRegistry {
        var registry = UserdbDriverRegistry()
        registry.register("static") { settings, context throws(ConfigError) in
            try StaticUserdbDriver(settings: settings, context: context)
        }
        registry.register("passwd-file") { settings, context throws(ConfigError) in
            try PasswdFileUserdbDriver(settings: settings, context: context)
        }
        registry.register("passwd") { settings, context throws(ConfigError) in
            try PasswdUserdbDriver(settings: settings, context: context)
        }
        return registry
    }

    /// Adds a driver, or replaces the one registered under the same name.
    public mutating func register(_ name: String, _ factory: @escaping Factory) {
        factories[name] = factory
    }

    /// The registered driver names, sorted.
    public var knownDrivers: [String] {
        factories.keys.sorted()
    }

    /// Creates the driver a `userdb { }` (or, by `context.role`, `passdb { }`) block names.
    ///
    /// An unknown name is a ``ConfigError`` at the block's location that lists the known drivers.
    public func makeDriver(for settings: UserdbSettings, context: UserdbDriverContext)
        throws(ConfigError) -> any UserdbDriver
    {
        guard let factory = factories[settings.driver] else {
            let known = knownDrivers.joined(separator: ", ")
            let kind = context.role.rawValue
            if settings.driver.isEmpty {
                throw ConfigError(
                    "\(kind) block has no driver setting (known: \(known))", at: settings.location)
            }
            throw ConfigError(
                "unknown \(kind) driver '\(settings.driver)' (known: \(known))", at: settings.location)
        }
        return try factory(settings, context)
    }
}
