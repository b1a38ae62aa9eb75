import Testing

@testable import HomingSieve

/// `sieve_extensions` and `sieve_global_extensions` as Pigeonhole 0.5.19 reads them (checked
/// with `sieve-test -x` and the source of `sieve_extensions_set_string`), and what compiling
/// with the resulting set allows.
@Suite("sieve_extensions and sieve_global_extensions")
struct SieveExtensionSetTests {
    private func parse(_ extensions: String?, global: String? = nil) throws -> SieveExtensionSet {
        try SieveExtensionSet.parse(extensions: extensions, globalExtensions: global).set
    }

    private func compileError(
        _ source: String, _ set: SieveExtensionSet, scope: SieveScriptScope = .personal
    ) -> String? {
        do {
            _ = try SieveCompiledScript.compile(source, options: SieveCompileOptions(extensions: set, scope: scope))
            return nil
        } catch {
            return error.description
        }
    }

    @Test("Pigeonhole's default leaves vacation-seconds, editheader, spamtest, spamtestplus and virustest off")
    func defaultSet() throws {
        let set = try parse(nil)
        #expect(set == .pigeonholeDefault)
        #expect(try parse("") == .pigeonholeDefault)
        for off in [SieveExtension.vacationSeconds, .editheader, .spamtest, .spamtestplus, .virustest] {
            #expect(!set.allows(off, in: .personal))
            #expect(!set.allows(off, in: .global))
        }
        for on in [SieveExtension.fileinto, .enotify, .mime, .foreverypart, .extracttext, .ihave, .duplicate, .vacation] {
            #expect(set.allows(on, in: .personal))
        }
    }

    @Test("a default-off extension is refused with Pigeonhole's message, then enabled with +name")
    func enableWithPlus() throws {
        let script = "require \"editheader\";\naddheader \"X-A\" \"b\";"
        // Pigeonhole 0.5.19 prints both lines for this script.
        let set = SieveExtensionSet.pigeonholeDefault
        let diagnosed = SieveCompiledScript.diagnose(script, options: SieveCompileOptions(extensions: set))
        #expect(
            diagnosed.errors.map(\.description) == [
                "line 1: error: require command: unknown Sieve capability `editheader'.",
                "line 2: error: unknown command 'addheader' (only reported once at first occurrence).",
            ])
        #expect(compileError(script, try parse("+editheader")) == nil)
        #expect(compileError("require \"vacation-seconds\";\nvacation :seconds 60 \"x\";", set) != nil)
        #expect(compileError("require \"vacation-seconds\";\nvacation :seconds 60 \"x\";", try parse("+vacation-seconds")) == nil)
        #expect(compileError("require \"spamtestplus\";\nif spamtest :percent \"0\" { keep; }", try parse("+spamtestplus")) == nil)
    }

    @Test("a list without + or - replaces the set; +/- edit the default; names without a prefix are added")
    func syntax() throws {
        #expect(try parse("fileinto reject") == SieveExtensionSet(enabled: [.fileinto, .reject]))
        #expect(compileError("require \"fileinto\";\nfileinto \"a\";", try parse("fileinto reject")) == nil)
        #expect(
            compileError("require \"envelope\";", try parse("fileinto reject"))
                == "line 1: error: require command: unknown Sieve capability `envelope'.")
        let edited = try parse("-enotify +spamtest\tvirustest")
        #expect(!edited.allows(.enotify, in: .personal))
        #expect(edited.allows(.spamtest, in: .personal))
        #expect(edited.allows(.virustest, in: .personal))
        #expect(edited.allows(.fileinto, in: .personal))
        #expect(try parse("-fileinto").enabled == SieveExtensionSet.pigeonholeDefault.enabled.subtracting([.fileinto]))
        // The always-available comparators may be named; they change nothing.
        #expect(try parse("+comparator-i;octet") == .pigeonholeDefault)
    }

    @Test("unknown names are errors naming the entry; Pigeonhole-only names are ignored with a warning")
    func badEntries() throws {
        #expect(throws: SieveExtensionSettingError(setting: "sieve_extensions", entry: "+editheadr", problem: .unknownName)) {
            try SieveExtensionSet.parse(extensions: "+editheadr")
        }
        #expect(throws: SieveExtensionSettingError(setting: "sieve_global_extensions", entry: "-", problem: .emptyName)) {
            try SieveExtensionSet.parse(extensions: nil, globalExtensions: "-")
        }
        let error = SieveExtensionSettingError(setting: "sieve_extensions", entry: "+editheadr", problem: .unknownName)
        #expect(error.description.hasPrefix("sieve_extensions: unknown Sieve extension '+editheadr' (known: body comparator-i;ascii-numeric copy date"))
        let (set, warnings) = try SieveExtensionSet.parse(
            extensions: "+editheader", globalExtensions: "+vnd.dovecot.pipe +vnd.dovecot.execute")
        #expect(set.enabled.contains(.editheader))
        #expect(
            warnings == [
                "sieve_global_extensions: ignored extension 'vnd.dovecot.pipe': Homing does not implement it",
                "sieve_global_extensions: ignored extension 'vnd.dovecot.execute': Homing does not implement it",
            ])
    }

    @Test("sieve_global_extensions are for administrator scripts only, as in Pigeonhole")
    func globalOnly() throws {
        let set = try parse(nil, global: "+editheader")
        #expect(set.allows(.editheader, in: .global))
        #expect(!set.allows(.editheader, in: .personal))
        let script = "require \"editheader\";\naddheader \"X-A\" \"b\";"
        #expect(compileError(script, set, scope: .global) == nil)
        #expect(
            compileError(script, set)
                == "line 1: error: require command: failed to load Sieve capability `editheader': its use is restricted to global scripts."
        )
        // Listed in both settings, it stays restricted (the global mark wins).
        #expect(!(try parse("+editheader", global: "editheader")).allows(.editheader, in: .personal))
        // ihave of a global-only extension is false in a personal script.
        let guarded = "require [\"ihave\", \"fileinto\"];\nif ihave \"editheader\" { addheader \"X\" \"y\"; } else { fileinto \"no\"; }"
        let compiled = try SieveCompiledScript.compile(guarded, options: SieveCompileOptions(extensions: set))
        let result = try SieveInterpreter.run(
            compiled, message: ConformanceMessage(conformanceMessage), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
        #expect(result.actions == [.fileInto(mailbox: "no", flags: [], create: false, copy: false)])
    }

    @Test("requiring a command that needs no capability gets Pigeonhole's explanation")
    func coreNames() {
        #expect(
            compileErrorText("require \"keep\";")
                == "line 1: error: require command: `keep' is not known as a Sieve capability, but it is known as a Sieve command that is always available."
        )
        #expect(
            compileErrorText("require \"header\";")
                == "line 1: error: require command: `header' is not known as a Sieve capability, but it is known as a Sieve test that is always available."
        )
    }
}
