import Testing

@testable import HomingSieve

private func parseError(_ source: String, limits: SieveParser.Limits = SieveParser.Limits())
    -> SieveError?
{
    do {
        _ = try SieveParser.parse(source, limits: limits)
        return nil
    } catch {
        return error
    }
}

private func at(_ line: Int, _ column: Int) -> SieveSourceLocation {
    SieveSourceLocation(line: line, column: column)
}

@Suite("Sieve parser")
struct SieveParserTests {
    @Test("a command with tags, string lists, a test and a block becomes the expected tree")
    func tree() throws {
        let script = try SieveParser.parse(
            "if header :is [\"From\",\"To\"] \"a@b\" {\n  fileinto \"x\";\n}\nkeep;")
        #expect(
            script
                == SieveScript(commands: [
                    SieveCommand(
                        name: "if",
                        tests: .single([
                            SieveTest(
                                name: "header",
                                arguments: [
                                    SieveArgument(.tag("is"), at: at(1, 11)),
                                    SieveArgument(.stringList(["From", "To"]), at: at(1, 15)),
                                    SieveArgument(.string("a@b"), at: at(1, 29)),
                                ],
                                location: at(1, 4))
                        ]),
                        block: [
                            SieveCommand(
                                name: "fileinto", arguments: [SieveArgument(.string("x"), at: at(2, 12))],
                                location: at(2, 3))
                        ],
                        location: at(1, 1)),
                    SieveCommand(name: "keep", location: at(4, 1)),
                ]))
    }

    @Test("test lists, nested tests and numbers are parsed")
    func testLists() throws {
        let script = try SieveParser.parse("if anyof (not exists \"x\", size :over 1K) { }")
        let test = try #require(script.commands.first?.tests.tests.first)
        #expect(test.name == "anyof")
        guard case .list(let inner) = test.tests else {
            Issue.record("expected a test list")
            return
        }
        #expect(inner.map(\.name) == ["not", "size"])
        #expect(
            inner[0].tests
                == .single([
                    SieveTest(
                        name: "exists", arguments: [SieveArgument(.string("x"), at: at(1, 22))],
                        location: at(1, 15))
                ]))
        #expect(inner[1].arguments.map(\.value) == [.tag("over"), .number(1024)])
        #expect(script.commands[0].block == [])
    }

    @Test("a single-element string list stays a list, a bare string stays a string")
    func stringVersusList() throws {
        let script = try SieveParser.parse("fileinto [\"a\"]; fileinto text:\nb\n.\n;")
        #expect(
            script.commands.map { $0.arguments.map(\.value) } == [[.stringList(["a"])], [.string("b\n")]])
    }

    @Test("an empty script parses to no commands")
    func empty() throws {
        #expect(try SieveParser.parse("# nothing\n/* here */\n") == SieveScript(commands: []))
    }

    @Test("syntax errors have exact messages and positions")
    func syntaxErrors() {
        #expect(
            parseError("if true {\n  fileinto \"x\"\n}")
                == SieveError(
                    .syntax, at: at(3, 1),
                    "expected end of command ';' or the beginning of a compound block '{', but found '}'"))
        #expect(
            parseError("if true {\n  fileinto \"x\"\n}")?.description
                == "line 3: error: expected end of command ';' or the beginning of a compound block '{', but found '}'."
        )
        #expect(
            parseError("keep")
                == SieveError(
                    .syntax, at: at(1, 5),
                    "expected end of command ';' or the beginning of a compound block '{', but found end of script"
                ))
        #expect(
            parseError("keep\n);")
                == SieveError(
                    .syntax, at: at(2, 1),
                    "expected end of command ';' or the beginning of a compound block '{', but found ')'"))
        #expect(
            parseError("fileinto \"a\" ]")
                == SieveError(
                    .syntax, at: at(1, 14),
                    "expected end of command ';' or the beginning of a compound block '{', but found ']'"))
        #expect(
            parseError("keep;\n\"x\";")
                == SieveError(.syntax, at: at(2, 1), "expected a command name, but found string"))
        #expect(
            parseError("if true {\n keep;\n")
                == SieveError(
                    .syntax, at: at(3, 1),
                    "missing closing brace '}' for the block of the if command opened at line 1"))
        #expect(
            parseError("keep; }")
                == SieveError(.syntax, at: at(1, 7), "unexpected '}' without a matching '{'"))
        #expect(
            parseError("x [\"a\" \"b\"];")
                == SieveError(
                    .syntax, at: at(1, 8),
                    "expected ',' or ']' in string list opened at line 1, but found string"))
        #expect(
            parseError("x [];")
                == SieveError(.syntax, at: at(1, 4), "expected a string in string list, but found ']'"))
        #expect(
            parseError("x [1];")
                == SieveError(.syntax, at: at(1, 4), "expected a string in string list, but found number 1")
        )
        #expect(
            parseError("if anyof (true; {}")
                == SieveError(
                    .syntax, at: at(1, 15), "expected ',' or ')' in test list opened at line 1, but found ';'"
                ))
        #expect(
            parseError("if anyof () {}")
                == SieveError(
                    .syntax, at: at(1, 11),
                    "expected a test in the test list of the anyof test, but found ')'"))
        #expect(
            parseError("if anyof (true,")
                == SieveError(
                    .syntax, at: at(1, 16),
                    "expected a test in the test list of the anyof test, but found end of script"))
        #expect(
            parseError("keep :x 1 \"s\" ;;")
                == SieveError(.syntax, at: at(1, 16), "expected a command name, but found ';'"))
    }

    @Test("lexical errors surface through the parser")
    func lexicalErrors() {
        #expect(parseError("keep;\n\"open")?.kind == .unterminatedString)
    }

    @Test("blocks nested deeper than the limit are a typed error")
    func blockNesting() throws {
        let depth = 32
        let ok = String(repeating: "if true {", count: depth) + String(repeating: "}", count: depth)
        #expect(throws: Never.self) { try SieveParser.parse(ok) }
        let deep =
            String(repeating: "if true {\n", count: depth + 1) + String(repeating: "}", count: depth + 1)
        #expect(
            parseError(deep)
                == SieveError(
                    .nestingTooDeep, at: at(33, 9), "cannot nest command blocks deeper than 32 levels"))
        #expect(
            parseError("if true { if true { } }", limits: SieveParser.Limits(maxBlockNesting: 1))?.kind
                == .nestingTooDeep)
    }

    @Test("tests nested deeper than the limit are a typed error")
    func testNesting() throws {
        let ok = "if " + String(repeating: "not ", count: 31) + "true {}"
        #expect(throws: Never.self) { try SieveParser.parse(ok) }
        let deep = "if " + String(repeating: "not ", count: 32) + "true {}"
        #expect(
            parseError(deep)
                == SieveError(.nestingTooDeep, at: at(1, 132), "cannot nest tests deeper than 32 levels"))
        let lists =
            "if " + String(repeating: "anyof(", count: 40) + "true" + String(repeating: ")", count: 40)
            + " {}"
        #expect(parseError(lists)?.kind == .nestingTooDeep)
    }

    @Test("a hostile script with huge nesting fails cleanly instead of overflowing the stack")
    func hostileNesting() {
        let deep = String(repeating: "if true {", count: 100_000)
        #expect(parseError(deep)?.kind == .nestingTooDeep)
        let tests = "if " + String(repeating: "not ", count: 100_000) + "true {}"
        #expect(parseError(tests)?.kind == .nestingTooDeep)
    }
}
