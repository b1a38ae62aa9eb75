import Testing

@testable import HomingSieve

/// `runSequence`: sieve_before / user / sieve_after scripts.
@Suite("SieveInterpreter script sequences")
struct SieveInterpreterSequenceTests {
    private func sequence(_ sources: [String]) throws -> SieveResult {
        let scripts = try sources.map { try SieveCompiledScript.compile($0) }
        return try SieveInterpreter.runSequence(
            scripts, message: ConformanceMessage(conformanceMessage), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
    }

    @Test("scripts run in order while a keep is in effect")
    func allRun() throws {
        let result = try sequence([
            "require [\"fileinto\", \"copy\"];\nfileinto :copy \"Before\";", "keep;",
            "require \"fileinto\";\nfileinto \"After\";",
        ])
        #expect(
            result
                == SieveResult(
                    actions: [
                        .fileInto(mailbox: "Before", flags: [], create: false, copy: true),
                        .fileInto(mailbox: "After", flags: [], create: false, copy: false),
                    ], implicitKeep: false))
    }

    @Test("a script that cancels the keep ends the sequence")
    func discardEnds() throws {
        let result = try sequence(["discard;", "require \"fileinto\";\nfileinto \"User\";"])
        #expect(result == SieveResult(actions: [.discard], implicitKeep: false))
    }

    @Test("stop ends only the current script")
    func stopEndsScript() throws {
        let result = try sequence(["stop;", "require \"fileinto\";\nfileinto \"User\";"])
        #expect(result == filedInto("User"))
    }

    @Test("limits apply across the sequence")
    func limitsAcrossScripts() throws {
        let scripts = try ["require \"reject\";\nreject \"no\";", "keep;"].map { try SieveCompiledScript.compile($0) }
        // reject cancels the keep, so the second script never runs: no conflict.
        let result = try SieveInterpreter.runSequence(
            scripts, message: ConformanceMessage(conformanceMessage), envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
        #expect(result == SieveResult(actions: [.reject(reason: "no", extended: false)], implicitKeep: false))
    }

    @Test("an empty sequence is the implicit keep")
    func empty() throws {
        #expect(try sequence([]) == implicitKeepOnly)
    }
}
