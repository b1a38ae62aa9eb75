import Testing

@testable import HomingSieve

/// RFC 5228 section 2.10 (implicit keep, duplicates, limits), RFC 3894 (copy), RFC 5429
/// (reject/ereject conflicts).
@Suite("Conformance: actions and their rules")
struct ConformanceActionRulesTests {
    @Test("discard cancels the implicit keep and is recorded once")
    func discard() throws {
        #expect(try runSieve("discard; discard;") == SieveResult(actions: [.discard], implicitKeep: false))
    }

    @Test("duplicate fileinto and keep are merged into the first occurrence")
    func duplicatesMerged() throws {
        let result = try runSieve("require \"fileinto\";\nfileinto \"A\"; keep; fileinto \"A\"; keep;")
        #expect(
            result
                == SieveResult(
                    actions: [.fileInto(mailbox: "A", flags: [], create: false, copy: false), .keep(flags: [])],
                    implicitKeep: false))
    }

    @Test("redirects to the same address are merged; :copy keeps the implicit keep")
    func redirects() throws {
        let result = try runSieve(
            "require \"copy\";\nredirect :copy \"carol@example.org\"; redirect :copy \"carol@EXAMPLE.org\";")
        #expect(result == SieveResult(actions: [.redirect(address: "carol@example.org", copy: true)], implicitKeep: true))
    }

    @Test("fileinto :copy keeps the implicit keep (RFC 3894)")
    func fileintoCopy() throws {
        let result = try runSieve("require [\"fileinto\", \"copy\"];\nfileinto :copy \"Archive\";")
        #expect(
            result == SieveResult(actions: [.fileInto(mailbox: "Archive", flags: [], create: false, copy: true)]))
    }

    @Test("redirect without :copy cancels the implicit keep")
    func redirectCancels() throws {
        #expect(
            try runSieve("redirect \"carol@example.org\";")
                == SieveResult(actions: [.redirect(address: "carol@example.org", copy: false)], implicitKeep: false))
    }

    @Test("an invalid redirect address is a runtime error")
    func invalidRedirect() throws {
        let error = try runtimeError("require \"variables\";\nset \"a\" \"not an address\";\nredirect \"${a}\";")
        #expect(error?.message == "specified redirect address 'not an address' is invalid")
        #expect(error?.location.line == 3)
    }

    @Test("more redirects than sieve_max_redirects is a runtime error")
    func maxRedirects() throws {
        let script = "redirect \"a@example.org\"; redirect \"b@example.org\"; redirect \"c@example.org\";"
        let error = try runtimeError(script, settings: SieveRuntimeSettings(maxRedirects: 2))
        #expect(error?.message == "total number of redirect actions exceeds the limit of 2")
    }

    @Test("more actions than sieve_max_actions is a runtime error")
    func maxActions() throws {
        let script = "require \"fileinto\";\nfileinto \"a\";\nfileinto \"b\";\nfileinto \"c\";"
        let error = try runtimeError(script, settings: SieveRuntimeSettings(maxActions: 2))
        #expect(error?.message == "total number of actions exceeds the limit of 2")
        #expect(error?.location.line == 4)
    }

    @Test("reject cancels the implicit keep (RFC 5429)")
    func reject() throws {
        #expect(
            try runSieve("require \"reject\";\nreject \"go away\";")
                == SieveResult(actions: [.reject(reason: "go away", extended: false)], implicitKeep: false))
        #expect(
            try runSieve("require \"ereject\";\nereject \"no\";")
                == SieveResult(actions: [.reject(reason: "no", extended: true)], implicitKeep: false))
    }

    // Texts and lines verified with Pigeonhole 0.5.19: the error is the reject's, naming the
    // other action's line.
    @Test("reject after fileinto, and keep after reject, are runtime errors at the reject's line")
    func rejectConflicts() throws {
        let first = try runtimeError("require [\"reject\", \"fileinto\"];\nfileinto \"A\";\nreject \"no\";")
        #expect(
            first?.message
                == "reject/ereject action conflicts with other action: the store action (line 2) tries to deliver the message")
        #expect(first?.location.line == 3)
        let second = try runtimeError("require \"reject\";\nreject \"no\";\nkeep;")
        #expect(
            second?.message
                == "reject/ereject action conflicts with other action: the store action (line 3) tries to deliver the message")
        #expect(second?.location.line == 2)
        let redirect = try runtimeError("require \"reject\";\nredirect \"a@example.org\";\n\nreject \"no\";")
        #expect(
            redirect?.message
                == "reject/ereject action conflicts with other action: the redirect action (line 2) tries to deliver the message")
        let twice = try runtimeError("require \"reject\";\nreject \"no\";\nreject \"again\";")
        #expect(twice?.message == "duplicate reject/ereject action not allowed (previously triggered one was here: line 2)")
        #expect(twice?.location.line == 3)
    }

    @Test("a named script appears in the conflict message, as Pigeonhole names it")
    func conflictNamesScript() throws {
        var compiled = try SieveCompiledScript.compile("require \"reject\";\nreject \"x\";\nkeep;")
        compiled.name = "t2"
        #expect(throws: SieveRuntimeError(
            at: SieveSourceLocation(line: 2, column: 1),
            "reject/ereject action conflicts with other action: the store action (t2: line 3) tries to deliver the message"
        )) {
            try SieveInterpreter.run(
                compiled, message: ConformanceMessage(conformanceMessage), envelope: conformanceEnvelope,
                environment: ConformanceEnvironment())
        }
    }

    @Test("reject and vacation conflict; two vacations are an error")
    func rejectVacation() throws {
        let error = try runtimeError("require [\"reject\", \"vacation\"];\nvacation \"away\";\nreject \"no\";")
        #expect(
            error?.message
                == "reject/ereject action conflicts with other action: the vacation action (line 2) also sends a response to the sender")
        #expect(error?.location.line == 3)
        let after = try runtimeError("require [\"reject\", \"vacation\"];\nreject \"no\";\nvacation \"away\";")
        #expect(
            after?.message
                == "vacation action conflicts with other action: the reject action (line 2) also sends a response back to the sender")
        #expect(after?.location.line == 3)
        let twice = try runtimeError("require \"vacation\";\nvacation \"a\";\nvacation \"b\";")
        #expect(twice?.message == "duplicate vacation action not allowed (previously triggered one was here: line 2)")
    }

    @Test("reject and discard go together")
    func rejectDiscard() throws {
        #expect(
            try runSieve("require \"reject\";\ndiscard;\nreject \"no\";")
                == SieveResult(actions: [.discard, .reject(reason: "no", extended: false)], implicitKeep: false))
    }
}
