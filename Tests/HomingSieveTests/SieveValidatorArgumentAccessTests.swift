import Testing

@testable import HomingSieve

@Suite("Sieve parsed arguments for the interpreter")
struct SieveValidatorArgumentAccessTests {
    @Test("tags, tag parameters and positional arguments are split by the command's spec")
    func vacation() throws {
        let compiled = try SieveCompiledScript.compile(
            "require \"vacation\";\nvacation :days 3 :mime :addresses \"a@b.c\" :subject \"S\" \"reason\";")
        let command = compiled.script.commands[1]
        let parsed = command.parsedArguments
        #expect(parsed.tagged.map(\.name) == ["days", "mime", "addresses", "subject"])
        #expect(parsed.number("days") == 3)
        #expect(parsed.has("mime"))
        #expect(!parsed.has("from"))
        #expect(parsed.strings("addresses") == ["a@b.c"])
        #expect(parsed.string("subject") == "S")
        #expect(parsed.positionalString(0) == "reason")
        #expect(command.positional.count == 1)
        #expect(command.hasTag("mime"))
        #expect(command.tagParameter("days")?.value == .number(3))
    }

    @Test("comparator, match type, address part and index have RFC defaults")
    func testDefaults() throws {
        let compiled = try SieveCompiledScript.compile(
            "require [\"relational\", \"index\"];\nif address :index 2 :last :count \"GE\" :comparator \"i;octet\" :domain \"to\" \"1\" { keep; }\nif header \"a\" \"b\" { keep; }")
        let first = compiled.script.commands[1].tests.tests[0].parsedArguments
        #expect(first.comparator == .octet)
        #expect(first.matchType == .count(.ge))
        #expect(first.addressPart == "domain")
        #expect(first.index?.number == 2)
        #expect(first.index?.last == true)
        #expect(first.positionalStrings(0) == ["to"])
        #expect(first.positionalStrings(1) == ["1"])
        let second = compiled.script.commands[2].tests.tests[0].parsedArguments
        #expect(second.comparator == .asciiCasemap)
        #expect(second.matchType == .is)
        #expect(second.addressPart == "all")
        #expect(second.index == nil)
    }

    @Test("setflag with and without the variable name")
    func flags() throws {
        let compiled = try SieveCompiledScript.compile(
            "require [\"imap4flags\", \"variables\"];\nsetflag \"v\" [\"a\", \"b\"];\naddflag \"c\";")
        #expect(compiled.script.commands[1].positional.count == 2)
        #expect(compiled.script.commands[1].parsedArguments.positionalString(0) == "v")
        #expect(compiled.script.commands[2].parsedArguments.positionalStrings(0) == ["c"])
    }
}
