import HomingConfig
import HomingUserdb

/// A Dovecot 2.3 configuration with passdb blocks, printed as 2.4 (`homing config
/// --print-2.4`) and read back, with a passdb chain for each: what a test needs to check that the
/// conversion keeps every answer.
public struct Passdb24Conversion {
    /// The 2.3 configuration as read.
    public let old: LoadedConfiguration
    /// The printed 2.4 text.
    public let text: String
    /// The 2.4 text as read back (its diagnostics included).
    public let new: LoadedConfiguration

    /// Reads `text23` (as `/etc/dovecot/dovecot.conf`), prints it as 2.4 and reads that back.
    public init(_ text23: String) throws {
        old = try ConfigurationLoader.parse(text: text23, file: "/etc/dovecot/dovecot.conf")
        text = Dovecot24Printer.text(for: old)
        new = ConfigurationLoader.parseAll(text: text, file: "/etc/dovecot/dovecot24.conf")
    }

    /// The 2.3 text of a configuration with `passdbs` (the blocks, as written) and a static userdb.
    public static func configuration(passdbs: String) -> String {
        """
        protocols = lmtp
        postmaster_address = postmaster@example.com
        lmtp_proxy = yes
        \(passdbs)
        userdb {
          driver = static
          args = uid=5000 gid=5000 home=/var/vmail/%d/%n
        }

        """
    }

    /// Looks `users` up in the passdb chains of both configurations, made with `registry` and
    /// `context` (its settings replaced by each configuration's); returns the 2.4 chain's
    /// answers and the users whose answers differ (with both answers), after shutting both
    /// chains down.
    public func compare(
        _ users: [String], registry: UserdbDriverRegistry, context: UserdbDriverContext
    ) async throws -> (answers: [String: UserdbResult], differences: [String]) {
        func chain(_ settings: HomingSettings) throws -> PassdbChain {
            var context = context
            context.settings = settings
            return try PassdbChain(settings: settings, registry: registry, context: context)
        }
        let before = try chain(old.settings)
        let after = try chain(new.settings)
        var answers: [String: UserdbResult] = [:]
        var differences: [String] = []
        for user in users {
            let expected = await before.lookupPassdb(UserdbRequest(user: user))
            let got = await after.lookupPassdb(UserdbRequest(user: user))
            answers[user] = got
            if got != expected { differences.append("\(user): 2.3 \(expected), 2.4 \(got)") }
        }
        await before.shutdown()
        await after.shutdown()
        return (answers, differences)
    }
}
