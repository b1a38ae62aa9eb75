import Testing

@testable import HomingSieve

/// RFC 6609 include: `:personal`/`:global`, `:once`, `:optional`, `return`, `global` variables.
@Suite("Conformance: RFC 6609 include")
struct ConformanceRFC6609Tests {
    @Test("RFC 6609 section 3.2 example: personal and global scripts run in order")
    func includeOrder() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:always_allow"] = """
            require "fileinto";
            if address :is "from" "boss@example.com" { fileinto "Boss"; stop; }
            """
        environment.includes["global:spam_tests"] = """
            require ["relational", "comparator-i;ascii-numeric", "fileinto"];
            if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "5" { fileinto "Spam"; }
            """
        environment.includes["personal:spam_tests"] = """
            require "fileinto";
            if header :contains "subject" "viagra" { fileinto "Spam"; }
            """
        environment.includes["personal:mailing_lists"] = """
            require "fileinto";
            if exists "List-Id" { fileinto "Lists"; }
            """
        let script = """
            require ["include"];
            include :personal "always_allow";
            include :global "spam_tests";
            include :personal "spam_tests";
            include :personal "mailing_lists";
            """
        #expect(try runSieve(script, environment: environment) == filedInto("Spam"))
        let boss = "From: boss@example.com\nX-Spam-Score: 9\nList-Id: <x.example.com>\n\nx"
        #expect(try runSieve(script, message: boss, environment: environment) == filedInto("Boss"))
        let list = "From: a@example.com\nX-Spam-Score: 1\nList-Id: <x.example.com>\n\nx"
        #expect(try runSieve(script, message: list, environment: environment) == filedInto("Lists"))
    }

    @Test("RFC 6609 section 3.3 example: global variables shared with an included script")
    func globalVariables() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:subject_tests"] = """
            require ["include", "variables"];
            global ["test", "test_mailbox"];
            if header :contains "Subject" "${test}" {
                set "test_mailbox" "spam-${test}";
            }
            """
        let script = """
            require ["include", "variables", "relational", "fileinto"];
            global "test";
            global "test_mailbox";

            set "test" "$$";
            include "subject_tests";

            set "test" "Make money";
            include "subject_tests";

            if string :count "eq" "${test_mailbox}" "1" {
                fileinto "${test_mailbox}";
                stop;
            }
            """
        let spam = "From: x@y.z\nSubject: Make money fast\n\nx"
        #expect(try runSieve(script, message: spam, environment: environment) == filedInto("spam-Make money"))
        let dollars = "From: x@y.z\nSubject: only $$ here\n\nx"
        #expect(try runSieve(script, message: dollars, environment: environment) == filedInto("spam-$$"))
        #expect(try runSieve(script, environment: environment) == implicitKeepOnly)
    }

    @Test("variables not declared global stay local to each script; global.NAME reaches the global scope")
    func localVariables() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:inner"] = """
            require ["include", "variables"];
            set "local" "inner";
            set "global.shared" "from-inner";
            """
        let script = """
            require ["include", "variables", "fileinto"];
            set "local" "outer";
            include "inner";
            fileinto "${local}-${global.shared}";
            """
        #expect(try runSieve(script, environment: environment) == filedInto("outer-from-inner"))
    }

    @Test("imap4flags commands and hasflag take global.NAME variables; without include it is an error")
    func globalFlagVariables() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:flags"] = """
            require ["include", "variables", "imap4flags"];
            addflag "global.marks" "\\\\Flagged";
            """
        let script = """
            require ["include", "variables", "imap4flags", "fileinto"];
            include "flags";
            if hasflag :is "global.marks" "\\\\flagged" { fileinto :flags "${global.marks}" "Flagged"; }
            """
        #expect(
            try runSieve(script, environment: environment)
                == SieveResult(
                    actions: [.fileInto(mailbox: "Flagged", flags: ["\\Flagged"], create: false, copy: false)],
                    implicitKeep: false))
        #expect(
            compileErrorText("require \"variables\";\nset \"global.x\" \"1\";")
                == "line 2: error: invalid variable name 'global.x' for the set command.")
    }

    @Test("return ends the included script only; in the main script it ends the script")
    func returnCommand() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:early"] = """
            require ["include", "fileinto"];
            fileinto "A";
            return;
            fileinto "B";
            """
        let script = "require [\"include\", \"fileinto\"];\ninclude \"early\";\nfileinto \"C\";"
        #expect(try runSieve(script, environment: environment) == filedInto("A", "C"))
        #expect(
            try runSieve("require [\"include\", \"fileinto\"];\nfileinto \"A\";\nreturn;\nfileinto \"B\";")
                == filedInto("A"))
    }

    @Test("stop in an included script ends everything")
    func stopInInclude() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:stopper"] = "require \"fileinto\";\nfileinto \"A\";\nstop;"
        let script = "require [\"include\", \"fileinto\"];\ninclude \"stopper\";\nfileinto \"C\";"
        #expect(try runSieve(script, environment: environment) == filedInto("A"))
    }

    @Test(":once includes a script once even from nested scripts; without :once it runs each time")
    func once() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:counter"] = """
            require ["include", "variables"];
            global "count";
            set "count" "${count}x";
            """
        environment.includes["personal:middle"] = "require \"include\";\ninclude :once \"counter\";"
        let once = """
            require ["include", "variables", "fileinto"];
            global "count";
            include :once "counter";
            include "middle";
            include :once "counter";
            fileinto "n${count}";
            """
        #expect(try runSieve(once, environment: environment) == filedInto("nx"))
        let twice = """
            require ["include", "variables", "fileinto"];
            global "count";
            include "counter";
            include "counter";
            fileinto "n${count}";
            """
        #expect(try runSieve(twice, environment: environment) == filedInto("nxx"))
    }

    @Test(":optional skips a missing script; :personal and :global are different namespaces")
    func optional() throws {
        var environment = ConformanceEnvironment()
        environment.includes["global:only-global"] = "require \"fileinto\";\nfileinto \"G\";"
        #expect(
            try runSieve("require \"include\";\ninclude :optional \"missing\";", environment: environment)
                == implicitKeepOnly)
        #expect(
            try runSieve("require \"include\";\ninclude :global \"only-global\";", environment: environment)
                == filedInto("G"))
        let missing = try runtimeError("require \"include\";\n\ninclude \"only-global\";", environment: environment)
        #expect(missing?.location.line == 3)
        #expect(
            missing?.description
                == "line 3: error: include: failed to include personal script 'only-global': line 1: error: script 'only-global' not found."
        )
    }

    @Test("recursion is a runtime error, also through another script")
    func recursion() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:a"] = "require \"include\";\ninclude \"b\";"
        environment.includes["personal:b"] = "require \"include\";\n\ninclude \"a\";"
        let error = try runtimeError("require \"include\";\ninclude \"a\";", environment: environment)
        #expect(error?.message == "include: circular include of personal script 'a'")
        #expect(error?.location.line == 3)
    }

    @Test("nesting deeper than the include depth limit is a runtime error")
    func depthLimit() throws {
        var environment = ConformanceEnvironment()
        for level in 0..<5 {
            environment.includes["personal:s\(level)"] = "require \"include\";\ninclude \"s\(level + 1)\";"
        }
        environment.includes["personal:s5"] = "require \"fileinto\";\nfileinto \"deep\";"
        #expect(try runSieve("require \"include\";\ninclude \"s0\";", environment: environment) == filedInto("deep"))
        let error = try runtimeError(
            "require \"include\";\ninclude \"s0\";", environment: environment,
            settings: SieveRuntimeSettings(maxIncludeDepth: 3))
        #expect(error?.message == "include: cannot include personal script 's3': nesting exceeds the limit of 3")
    }

    @Test("an included script that does not compile is a runtime error of the including script")
    func brokenInclude() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:broken"] = "fileinto \"x\";"
        let error = try runtimeError("require \"include\";\ninclude \"broken\";", environment: environment)
        #expect(
            error?.message
                == "include: failed to include personal script 'broken': line 1: error: unknown command 'fileinto' (only available after require :fileinto)"
        )
    }

    @Test("include errors: extension, variables in the name, bad names, two locations")
    func compileErrors() {
        #expect(
            compileErrorText("include \"x\";")
                == "line 1: error: unknown command 'include' (only available after require :include).")
        #expect(
            compileErrorText("require [\"include\", \"variables\"];\ninclude \"${name}\";")
                == "line 2: error: include: the script name must be a constant string, but '${name}' contains variables."
        )
        #expect(
            compileErrorText("require \"include\";\ninclude \"../etc/passwd\";")
                == "line 2: error: include: invalid script name '../etc/passwd': the name contains '/'.")
        #expect(
            compileErrorText("require \"include\";\ninclude :personal :global \"x\";")
                == "line 2: error: encountered duplicate location argument (:global) for the include command.")
        #expect(
            compileErrorText("require \"include\";\nglobal \"1x\";")
                == "line 2: error: invalid variable name '1x' for the global command.")
        #expect(compileErrorText("require \"include\";\nreturn \"x\";") != nil)
    }
}
