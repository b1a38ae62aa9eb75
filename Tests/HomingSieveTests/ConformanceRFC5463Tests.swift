import Testing

@testable import HomingSieve

/// RFC 5463 ihave and error: the rules of section 4 one by one, compared with Pigeonhole
/// 0.5.19's `sieve-test` (also with `-x` disabling extensions).
@Suite("Conformance: RFC 5463 ihave and error")
struct ConformanceRFC5463Tests {
    private func run(_ script: String, extensions: SieveExtensionSet = .all) throws -> SieveResult {
        let compiled = try SieveCompiledScript.compile(script, options: SieveCompileOptions(extensions: extensions))
        return try SieveInterpreter.run(
            compiled, message: ConformanceMessage(conformanceMessage), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
    }

    @Test("section 4: an unavailable capability makes ihave false; the code it guards is not checked")
    func unavailable() throws {
        // Pigeonhole 0.5.19: compiles, keeps.
        #expect(try run("require \"ihave\";\nif ihave \"nonsense\" { nonsense \"x\"; } else { keep; }") == SieveResult(
            actions: [.keep(flags: [])], implicitKeep: false))
        let withoutFileinto = try SieveExtensionSet.parse(extensions: "-fileinto").set
        let guarded = "require \"ihave\";\nif ihave \"fileinto\" { fileinto \"A\"; } else { keep; }"
        #expect(try run(guarded, extensions: withoutFileinto).actions == [.keep(flags: [])])
        #expect(try run(guarded).actions == [.fileInto(mailbox: "A", flags: [], create: false, copy: false)])
        // Any unavailable capability in the list fails the test and enables none.
        let list = "require \"ihave\";\nif ihave [\"fileinto\", \"editheader\"] { addheader \"X\" \"y\"; } else { discard; }"
        #expect(try run(list, extensions: withoutFileinto).actions == [.discard])
    }

    @Test("section 4 rule 1: after a successful ihave the extension may be used to the end of the script")
    func enablesForTheRest() throws {
        let script = "require \"ihave\";\nif ihave \"fileinto\" { fileinto \"A\"; }\nfileinto \"B\";"
        #expect(try run(script).actions.count == 2)
        // But not before it.
        #expect(
            compileErrorText("require \"ihave\";\nfileinto \"B\";\nif ihave \"fileinto\" { fileinto \"A\"; }")
                == "line 2: error: unknown command 'fileinto' (only available after require :fileinto).")
        // A later use after a failed ihave is an error (Pigeonhole 0.5.19 too).
        #expect(
            compileErrorText("require \"ihave\";\nif ihave [\"fileinto\", \"nonsense\"] { fileinto \"A\"; }\nfileinto \"B\";")
                == "line 3: error: unknown command 'fileinto' (only available after require :fileinto).")
    }

    @Test("section 4 rule 3: an extension also required is always available, ihave of it true")
    func requiredToo() throws {
        let script = "require [\"ihave\", \"fileinto\"];\nif ihave \"fileinto\" { fileinto \"A\"; }\nfileinto \"B\";"
        #expect(try run(script).actions.count == 2)
    }

    @Test("section 4: variables and encoded-character never count as available to ihave")
    func grammarExtensions() throws {
        #expect(try run("require [\"ihave\", \"variables\"];\nif ihave \"variables\" { discard; }").implicitKeep)
        #expect(try run("require \"ihave\";\nif ihave \"encoded-character\" { discard; }").implicitKeep)
        #expect(!(try run("require \"ihave\";\nif ihave \"comparator-i;octet\" { discard; }").implicitKeep))
    }

    @Test("section 4: the capabilities must be constant strings (Pigeonhole takes them as unknown names)")
    func constantCapabilities() {
        #expect(
            compileErrorText("require [\"ihave\", \"variables\"];\nif ihave \"${x}\" { keep; }")
                == "line 2: error: ihave test: the capabilities must be constant strings, but '${x}' contains variables.")
    }

    @Test("section 4 rule 5: tests are short-circuited, left to right")
    func shortCircuit() throws {
        let script = """
            require ["ihave", "fileinto"];
            if anyof(not ihave "nonsense", header "x" "y") { fileinto "a"; }
            if allof(ihave "nonsense", nonsense) { fileinto "b"; }
            """
        #expect(try run(script).actions == [.fileInto(mailbox: "a", flags: [], create: false, copy: false)])
    }

    @Test("constant conditions: the code under if false is not checked, as Pigeonhole does")
    func deadCode() {
        #expect(compileErrorText("if false { foo; }") == nil)
        #expect(compileErrorText("if not true { foo; }") == nil)
        #expect(compileErrorText("if allof(true, false) { foo; }") == nil)
        #expect(compileErrorText("if true { } elsif foo { bar; }") == nil)
        #expect(compileErrorText("if anyof(false, header \"a\") {}") != nil)
        // With an error in the test, the block is checked too.
        #expect(
            SieveCompiledScript.diagnose("if allof(foo, false) { bar; }").errors.map(\.description) == [
                "line 1: error: unknown test 'foo' (only reported once at first occurrence).",
                "line 1: error: unknown command 'bar' (only reported once at first occurrence).",
            ])
        #expect(
            compileErrorText("if false { } else { bar; }")
                == "line 1: error: unknown command 'bar' (only reported once at first occurrence).")
        #expect(
            compileErrorText("if true { } else true { }")
                == "line 1: error: the else command accepts no sub-tests, but tests are specified.")
    }

    @Test("section 5: error ends the script with a run-time error carrying the message")
    func errorCommand() throws {
        let error = try runtimeError("require \"ihave\";\nkeep;\nerror \"Café stop\";")
        #expect(error == SieveRuntimeError(at: SieveSourceLocation(line: 3, column: 1), "Café stop"))
        #expect(
            try runtimeError("require [\"ihave\", \"variables\"];\nset \"why\" \"bad\";\nerror \"${why} thing\";")?.message
                == "bad thing")
        #expect(
            compileErrorText("error \"x\";") == "line 1: error: unknown command 'error' (only available after require :ihave).")
    }
}
