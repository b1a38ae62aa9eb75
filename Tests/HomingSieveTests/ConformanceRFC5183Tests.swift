import Testing

@testable import HomingSieve

/// RFC 5183 environment.
@Suite("Conformance: RFC 5183 environment")
struct ConformanceRFC5183Tests {
    private func check(_ test: String, environment: ConformanceEnvironment = ConformanceEnvironment()) throws -> Bool {
        try !runSieve(
            "require [\"environment\", \"relational\", \"variables\"];\nif \(test) { discard; }",
            environment: environment
        )
        .implicitKeep
    }

    @Test("items match with every match type and comparator; item names are case-insensitive")
    func items() throws {
        var environment = ConformanceEnvironment()
        environment.environmentItems = [
            "domain": "example.com", "host": "mx1.example.com", "location": "MDA", "name": "Homing",
            "phase": "during", "remote-host": "mail.example.net", "remote-ip": "192.0.2.7", "version": "1.2",
        ]
        #expect(try check("environment :is \"location\" \"MDA\"", environment: environment))
        #expect(try check("environment :matches \"remote-host\" \"*.example.net\"", environment: environment))
        #expect(try check("environment :contains \"REMOTE-IP\" \"192.0.2\"", environment: environment))
        #expect(try check("environment :is :comparator \"i;octet\" \"name\" \"Homing\"", environment: environment))
        #expect(try !check("environment :is :comparator \"i;octet\" \"name\" \"homing\"", environment: environment))
        #expect(try check("environment :value \"gt\" \"version\" \"1.1\"", environment: environment))
        #expect(try check("environment :is \"phase\" [\"pre\", \"during\"]", environment: environment))
    }

    @Test("an unknown or unset item makes the test false, even for an empty key")
    func missing() throws {
        #expect(try !check("environment :is \"remote-host\" \"\""))
        #expect(try !check("environment :matches \"vnd.example.unknown\" \"*\""))
        #expect(try !check("environment :count \"eq\" \"remote-ip\" \"0\""))
    }

    @Test("the item name may come from a variable; a match sets ${1}")
    func variables() throws {
        let script = """
            require ["environment", "variables", "fileinto"];
            set "item" "domain";
            if environment :matches "${item}" "*.*" { fileinto "${1}"; }
            """
        #expect(try runSieve(script) == filedInto("example"))
    }

    @Test("environment errors: extension not required, wrong arguments")
    func compileErrors() {
        #expect(
            compileErrorText("if environment :is \"domain\" \"x\" { keep; }")
                == "line 1: error: unknown test 'environment' (only available after require :environment).")
        #expect(
            compileErrorText("require \"environment\";\nif environment :is [\"domain\", \"host\"] \"x\" { keep; }")
                == "line 2: error: the environment test expects a string as argument 1 (name), but a string list was found."
        )
    }
}
