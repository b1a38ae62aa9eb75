import Testing

@testable import HomingSieve

/// RFC 5232 imap4flags.
@Suite("Conformance: RFC 5232 imap4flags")
struct ConformanceImap4flagsTests {
    @Test("the internal flags apply to keep, fileinto and the implicit keep")
    func internalFlags() throws {
        let script = """
            require ["imap4flags", "fileinto", "copy"];
            setflag "\\\\seen";
            addflag ["Work", "\\\\Flagged \\\\SEEN"];
            fileinto :copy "A";
            removeflag "work";
            """
        let result = try runSieve(script)
        #expect(
            result
                == SieveResult(
                    actions: [.fileInto(mailbox: "A", flags: ["\\Seen", "Work", "\\Flagged"], create: false, copy: true)],
                    implicitKeep: true, implicitKeepFlags: ["\\Seen", "\\Flagged"]))
    }

    @Test(":flags overrides the internal variable for that action only")
    func flagsArgument() throws {
        let script = """
            require ["imap4flags", "fileinto"];
            addflag "$Important";
            fileinto :flags "\\\\Answered" "B";
            keep;
            """
        #expect(
            try runSieve(script)
                == SieveResult(
                    actions: [
                        .fileInto(mailbox: "B", flags: ["\\Answered"], create: false, copy: false),
                        .keep(flags: ["$Important"]),
                    ], implicitKeep: false))
    }

    @Test("flag commands on a variable and hasflag on it (RFC 5232 section 4 examples)")
    func variableFlags() throws {
        let script = """
            require ["imap4flags", "variables", "fileinto"];
            setflag "flagvar" "\\\\Deleted";
            addflag "flagvar" ["\\\\Answered", "\\\\Flagged"];
            removeflag "flagvar" "\\\\Deleted";
            if hasflag "flagvar" "\\\\flagged" { fileinto "${flagvar}"; }
            """
        #expect(try runSieve(script) == filedInto("\\Answered \\Flagged"))
    }

    @Test("hasflag on the internal variable with :count")
    func hasflagCount() throws {
        let script = """
            require ["imap4flags", "relational", "comparator-i;ascii-numeric"];
            addflag ["a", "b", "c"];
            if hasflag :count "ge" :comparator "i;ascii-numeric" "3" { discard; }
            """
        #expect(try runSieve(script).implicitKeep == false)
    }

    @Test("invalid flags are ignored")
    func invalidFlags() throws {
        let script = "require \"imap4flags\";\naddflag [\"\\\\Bogus\", \"ok\", \"bad(\", \"OK\"];"
        #expect(try runSieve(script).implicitKeepFlags == ["ok"])
    }
}
