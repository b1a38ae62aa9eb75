import Testing

@testable import HomingSieve

@Suite("Sieve compile errors: columns, limits, several errors")
struct SieveCompileErrorTests {
    @Test("errors carry line and column; descriptionWithColumn shows both")
    func lineAndColumn() {
        #expect(throws: SieveError.self) { try SieveCompiledScript.compile("keep;\n  redirect 5;") }
        do {
            _ = try SieveCompiledScript.compile("keep;\n  redirect 5;")
        } catch {
            #expect(error.location == SieveSourceLocation(line: 2, column: 12))
            #expect(
                error.description
                    == "line 2: error: the redirect command expects a string as argument 1 (address), but a number was found.")
            #expect(
                error.descriptionWithColumn
                    == "line 2, column 12: error: the redirect command expects a string as argument 1 (address), but a number was found.")
        }
    }

    @Test("the reference's missing semicolon message")
    func missingSemicolon() {
        do {
            _ = try SieveCompiledScript.compile("require \"fileinto\";\nfileinto \"Lists\"\nkeep;\n")
            Issue.record("compiled")
        } catch {
            #expect(error.description == "line 2: error: missing semicolon ';' after fileinto command.")
            #expect(error.kind == .syntax)
        }
    }

    @Test("a script over sieve_max_script_size is refused before parsing")
    func scriptSize() {
        let source = String(repeating: "keep;\n", count: 20)
        #expect((try? SieveCompiledScript.compile(source, maxScriptSize: 120)) != nil)
        do {
            _ = try SieveCompiledScript.compile(source, maxScriptSize: 119)
            Issue.record("compiled")
        } catch {
            #expect(error.kind == .scriptTooLarge)
            #expect(
                error.description
                    == "line 1: error: script is too large: 120 bytes, but at most 119 are allowed (sieve_max_script_size).")
        }
        #expect((try? SieveCompiledScript.compile(source, maxScriptSize: 0)) != nil)
        #expect(SieveCompiledScript.defaultMaxScriptSize == 1_048_576)
    }

    @Test("diagnose reports every validation error in script order")
    func severalErrors() {
        let source = "frob;\nredirect;\nif true { bar; }\nkeep;"
        let result = SieveCompiledScript.diagnose(source)
        #expect(result.script == nil)
        #expect(
            result.errors.map(\.description) == [
                "line 1: error: unknown command 'frob' (only reported once at first occurrence).",
                "line 2: error: the redirect command requires 1 positional argument(s), but 0 is/are specified.",
                "line 3: error: unknown command 'bar' (only reported once at first occurrence).",
            ])
        let good = SieveCompiledScript.diagnose("keep;")
        #expect(good.errors.isEmpty)
        #expect(good.script != nil)
    }

    @Test("diagnose returns the parse error alone when the script does not parse")
    func parseErrorAlone() {
        let result = SieveCompiledScript.diagnose("keep")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.kind == .syntax)
    }
}
