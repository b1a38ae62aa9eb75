import Testing

@testable import HomingSievePlugin

@Suite("Sieve script locations and settings per user")
struct SieveUserSettingsTests {
    func resolve(_ plugin: [String: String], fields: [String: String] = [:], home: String? = "/home/alice")
        throws -> SieveUserSettings
    {
        try SieveUserSettings.resolve(
            plugin: plugin, fields: fields, user: "alice@example.com", home: home, recipientDelimiter: "+")
    }

    @Test("file:~/sieve;active=~/.dovecot.sieve: the active script runs, includes come from ~/sieve, the log sits next to the script")
    func directoryWithActive() throws {
        let settings = try resolve(["sieve": "file:~/sieve;active=~/.dovecot.sieve"])
        #expect(settings.personalScript == "/home/alice/.dovecot.sieve")
        #expect(settings.personalDirectory == "/home/alice/sieve")
        #expect(settings.userLog == "/home/alice/.dovecot.sieve.log")
    }

    @Test("the older sieve = ~/.dovecot.sieve names the script; sieve_dir the include directory")
    func plainPath() throws {
        let settings = try resolve(["sieve": "~/.dovecot.sieve", "sieve_dir": "~/scripts"])
        #expect(settings.personalScript == "/home/alice/.dovecot.sieve")
        #expect(settings.personalDirectory == "/home/alice/scripts")
    }

    @Test("% variables expand; sieve_before2 and sieve_after follow in order; a gap stops the numbering")
    func variablesAndNumbering() throws {
        let settings = try resolve([
            "sieve_before": "/srv/sieve/%d/before.sieve", "sieve_before2": "file:/srv/sieve/%n.sieve",
            "sieve_before4": "/never", "sieve_after": "/srv/sieve/after.d",
            "sieve_default": "/srv/sieve/default.sieve", "sieve_global": "/srv/sieve/global",
        ])
        #expect(settings.before == ["/srv/sieve/example.com/before.sieve", "/srv/sieve/alice.sieve"])
        #expect(settings.after == ["/srv/sieve/after.d"])
        #expect(settings.defaultScript == "/srv/sieve/default.sieve")
        #expect(settings.globalDirectory == "/srv/sieve/global")
    }

    @Test("a userdb field overrides the configured value for that user")
    func userdbOverride() throws {
        let settings = try resolve(
            ["sieve": "file:~/sieve;active=~/.dovecot.sieve", "sieve_max_redirects": "4"],
            fields: ["sieve": "/srv/special/%n.sieve", "sieve_max_redirects": "1"])
        #expect(settings.personalScript == "/srv/special/alice.sieve")
        #expect(settings.runtime.maxRedirects == 1)
    }

    @Test("limits and vacation periods take Dovecot's units")
    func limits() throws {
        let settings = try resolve([
            "sieve_max_script_size": "64k", "sieve_max_actions": "10",
            "sieve_vacation_min_period": "1h", "sieve_vacation_max_period": "30 days",
            "sieve_vacation_default_period": "2d",
        ])
        #expect(settings.maxScriptSize == 65_536)
        #expect(settings.runtime.maxActions == 10)
        #expect(settings.runtime.vacationMinPeriod == 3_600)
        #expect(settings.runtime.vacationMaxPeriod == 30 * 86_400)
        #expect(settings.runtime.vacationDefaultPeriod == 2 * 86_400)
        #expect(try resolve(["sieve_vacation_send_from_recipient": "yes"]).vacationSendFromRecipient)
        #expect(try !resolve(["sieve_vacation_send_from_recipient": "no"]).vacationSendFromRecipient)
    }

    @Test("bad values are refused with the setting named: other storages, relative paths, .., ~ without a home, bad numbers")
    func refusals() {
        func reason(_ plugin: [String: String], home: String? = "/home/alice") -> String? {
            do {
                _ = try resolve(plugin, home: home)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(reason(["sieve": "ldap:/etc/x"]) == "sieve: the 'ldap' script storage is not supported (use file:)")
        #expect(reason(["sieve": "sieve/x.sieve"]) == "sieve: 'sieve/x.sieve' is not an absolute path")
        #expect(reason(["sieve_before": "/srv/../etc/x"]) == "sieve_before: '/srv/../etc/x' contains '..'")
        #expect(reason(["sieve": "~/.dovecot.sieve"], home: nil) == "sieve: '~/.dovecot.sieve' uses ~ but the user has no home")
        #expect(reason(["sieve_max_actions": "many"]) == "sieve_max_actions: 'many' is not a number")
        #expect(reason(["sieve_vacation_min_period": "3 fortnights"]) == "sieve_vacation_min_period: unknown time unit 'fortnights' in '3 fortnights'")
        #expect(reason(["sieve_redirect_envelope_from": "someone"]) != nil)
        #expect(
            reason(["sieve_vacation_send_from_recipient": "maybe"])
                == "sieve_vacation_send_from_recipient: invalid boolean value 'maybe' (use yes or no)")
    }
}
