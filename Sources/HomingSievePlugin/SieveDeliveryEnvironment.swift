import Foundation
import HomingDelivery
import HomingSieve

/// What a running script may ask of the world, for delivery and for `homing sieve-test`:
/// mailbox existence, duplicate tracking, `include` and the `environment` items.
public struct SieveDeliveryEnvironment: SieveRuntimeEnvironment {
    private let mailboxCheck: @Sendable (String) -> Bool
    private let duplicateCheck: @Sendable (String) -> Bool
    private let includeLoader: @Sendable (String, SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript
    public let environmentItems: [String: String]
    public let now: Date

    /// Creates an environment from its parts.
    public init(
        items: [String: String], now: Date = Date(),
        mailboxExists: @escaping @Sendable (String) -> Bool,
        isDuplicate: @escaping @Sendable (String) -> Bool,
        loadInclude: @escaping @Sendable (String, SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript
    ) {
        self.environmentItems = items
        self.now = now
        self.mailboxCheck = mailboxExists
        self.duplicateCheck = isDuplicate
        self.includeLoader = loadInclude
    }

    public func mailboxExists(_ mailbox: String) -> Bool { mailboxCheck(mailbox) }
    public func isDuplicate(key: String) -> Bool { duplicateCheck(key) }
    public func loadInclude(name: String, location: SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript {
        try includeLoader(name, location)
    }

    /// RFC 5183 items for a delivery agent on `hostname` (`domain` is the host name without its
    /// first label), plus the client's address when known.
    public static func standardItems(hostname: String, remoteIP: String?, remoteHost: String? = nil) -> [String: String] {
        var items: [String: String] = [
            "host": hostname, "location": "MDA", "phase": "during", "name": "Homing", "version": "0.1",
        ]
        if let dot = hostname.firstIndex(of: ".") {
            items["domain"] = String(hostname[hostname.index(after: dot)...])
        } else {
            items["domain"] = hostname
        }
        if let remoteIP { items["remote-ip"] = remoteIP }
        if let remoteHost { items["remote-host"] = remoteHost }
        return items
    }

    /// Loads `include`d scripts from `personal` and `global` directories (`<name>.sieve`),
    /// compiled through `cache` with `personalOptions` or `globalOptions` (`include :global`
    /// targets are administrator scripts); a missing script or directory is a runtime error for
    /// the including script. `compiled` is told of each script compiled anew (for its warnings).
    public static func includeLoader(
        personal: String?, global: String?, cache: SieveScriptCache, personalOptions: SieveCompileOptions,
        globalOptions: SieveCompileOptions,
        wrap: @escaping @Sendable (() throws(SieveScriptCache.LoadError) -> SieveScriptCache.Loaded?) throws(SieveScriptCache.LoadError) -> SieveScriptCache.Loaded? = { try $0() },
        compiled: (@Sendable (SieveIncludeLocation, SieveCompiledScript) -> Void)? = nil
    ) -> @Sendable (String, SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript {
        { name, location throws(SieveError) in
            let here = SieveSourceLocation(line: 1, column: 1)
            let directory = location == .global ? global : personal
            let kind = location == .global ? "global" : "personal"
            guard let directory else {
                throw SieveError(.invalidValue, at: here, "include: no \(kind) script location is configured")
            }
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw SieveError(.invalidValue, at: here, "include: invalid script name '\(name)'")
            }
            let path = directory + "/" + (name.hasSuffix(".sieve") ? name : name + ".sieve")
            let options = location == .global ? globalOptions : personalOptions
            let loaded: SieveScriptCache.Loaded?
            do {
                loaded = try wrap { () throws(SieveScriptCache.LoadError) in try cache.load(path, options: options) }
            } catch {
                throw SieveError(.invalidValue, at: here, "include: \(kind) script '\(name)' is broken: \(error)")
            }
            guard let loaded else {
                throw SieveError(.invalidValue, at: here, "include: \(kind) script '\(name)' does not exist")
            }
            if loaded.isNew { compiled?(location, loaded.script) }
            return loaded.script
        }
    }
}
