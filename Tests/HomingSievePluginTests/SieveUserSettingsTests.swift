import HomingSieve
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

    @Test("sieve_extensions and sieve_global_extensions decide what scripts may require, per scope; a userdb field overrides them")
    func extensions() throws {
        let defaults = try resolve([:])
        #expect(defaults.extensions == .pigeonholeDefault)
        let settings = try resolve([
            "sieve_extensions": "+editheader +vacation-seconds -enotify", "sieve_global_extensions": "+spamtest",
        ])
        #expect(settings.extensions.allows(.editheader, in: .personal))
        #expect(settings.extensions.allows(.vacationSeconds, in: .personal))
        #expect(!settings.extensions.allows(.enotify, in: .personal))
        #expect(!settings.extensions.allows(.spamtest, in: .personal))
        #expect(settings.extensions.allows(.spamtest, in: .global))
        #expect(settings.compileOptions(.global).scope == .global)
        #expect(settings.compileOptions(.personal).extensions == settings.extensions)
        let overridden = try resolve(["sieve_extensions": "+editheader"], fields: ["sieve_extensions": "fileinto"])
        #expect(overridden.extensions.capabilities(in: .personal) == ["fileinto"])
        // Names only Pigeonhole implements are warned about, so a Dovecot configuration loads.
        #expect(try resolve(["sieve_extensions": "+vnd.dovecot.pipe"]).warnings
            == ["sieve_extensions: ignored extension 'vnd.dovecot.pipe': Homing does not implement it"])
    }

    @Test("the extension settings, editheader sizes, spamtest/virustest and sieve_user_email are checked, naming the setting")
    func extensionRefusals() {
        func reason(_ plugin: [String: String]) -> String? {
            do {
                _ = try resolve(plugin)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(reason(["sieve_extensions": "+editheadr"])?.hasPrefix("sieve_extensions: unknown Sieve extension '+editheadr' (known: ") == true)
        #expect(reason(["sieve_global_extensions": "+"]) == "sieve_global_extensions: '+' names no extension (write +name or -name)")
        #expect(reason(["sieve_editheader_max_header_size": "lots"])?.hasPrefix("sieve_editheader_max_header_size: ") == true)
        #expect(
            reason(["sieve_spamtest_status_header": "X-Spam-Score", "sieve_spamtest_status_type": "stars"])
                == "sieve_spamtest_status_type: invalid status type 'stars' (use score, strlen or text)")
        #expect(
            reason(["sieve_virustest_status_header": "X-Virus-Score"])
                == "sieve_virustest_max_value: none of sieve_virustest_max_header or sieve_virustest_max_value is configured")
        #expect(reason(["sieve_user_email": "not an address"]) == "sieve_user_email: 'not an address' is not an address (write user@domain)")
    }

    @Test("editheader, spamtest, virustest and sieve_user_email reach the runtime settings; the editheader size also the compiler")
    func extensionSettings() throws {
        let settings = try resolve([
            "sieve_editheader_max_header_size": "4k", "sieve_editheader_protected": "X-Verified",
            "sieve_spamtest_status_type": "score", "sieve_spamtest_status_header": "X-Spam-Score: ([0-9.]+)",
            "sieve_spamtest_max_value": "10", "sieve_virustest_status_type": "text",
            "sieve_virustest_status_header": "X-Virus-Scan", "sieve_virustest_text_value1": "clean",
            "sieve_virustest_text_value5": "infected", "sieve_user_email": "alice@example.com",
        ])
        #expect(settings.runtime.editHeader.maxHeaderSize == 4096)
        #expect(!settings.runtime.editHeader.mayAdd("X-Verified"))
        #expect(settings.compileOptions(.personal).editHeader == settings.runtime.editHeader)
        #expect(settings.runtime.spamTest?.statusHeader.name == "X-Spam-Score")
        #expect(settings.runtime.spamTest?.maxValue == 10)
        #expect(settings.runtime.virusTest?.textValues == [1: "clean", 5: "infected"])
        #expect(settings.runtime.userEmail == "alice@example.com")
        #expect(try resolve([:]).runtime.spamTest == nil)
        // Pigeonhole ignores a size below its minimum, with a warning.
        let small = try resolve(["sieve_editheader_max_header_size": "100"])
        #expect(small.runtime.editHeader.maxHeaderSize == 2048)
        #expect(small.warnings.first?.contains("is less than the minimum") == true)
    }

    @Test("inconsistent vacation periods are all reset to Pigeonhole's defaults, with its warning; without a maximum nothing is reset")
    func vacationPeriodReset() throws {
        for plugin in [
            ["sieve_vacation_min_period": "10d", "sieve_vacation_max_period": "5d"],
            ["sieve_vacation_default_period": "30d", "sieve_vacation_max_period": "14d"],
            ["sieve_vacation_min_period": "2d", "sieve_vacation_default_period": "1d", "sieve_vacation_max_period": "14d"],
        ] {
            let settings = try resolve(plugin)
            #expect(settings.runtime.vacationMinPeriod == 86_400, "\(plugin)")
            #expect(settings.runtime.vacationMaxPeriod == 0)
            #expect(settings.runtime.vacationDefaultPeriod == 7 * 86_400)
            #expect(settings.warnings == [
                "vacation extension: invalid settings: violated sieve_vacation_min_period < sieve_vacation_default_period < sieve_vacation_max_period"
            ])
        }
        let unbounded = try resolve(["sieve_vacation_min_period": "10d", "sieve_vacation_default_period": "2d"])
        #expect(unbounded.runtime.vacationMinPeriod == 10 * 86_400 && unbounded.warnings.isEmpty)
        let consistent = try resolve([
            "sieve_vacation_min_period": "1d", "sieve_vacation_default_period": "3d", "sieve_vacation_max_period": "14d",
        ])
        #expect(consistent.runtime.vacationMaxPeriod == 14 * 86_400 && consistent.warnings.isEmpty)
    }
}
