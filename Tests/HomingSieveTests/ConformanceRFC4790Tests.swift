import Testing

@testable import HomingSieve

/// RFC 4790 `i;ascii-numeric` with RFC 5231 `:value` and `:count` (the RFC 5231 section 5
/// examples included).
@Suite("Conformance: i;ascii-numeric with relational")
struct ConformanceRFC4790Tests {
    private static let require = "[\"relational\", \"comparator-i;ascii-numeric\"]"

    private func check(_ test: String, _ message: String = conformanceMessage) throws -> Bool {
        try !runSieve("require \(Self.require);\nif \(test) { discard; }", message: message).implicitKeep
    }

    /// The message of RFC 5231 section 5.
    static let rfc5231Message = """
        Received: ...
        Received: ...
        Subject: example
        To: foo@example.com.invalid, baz@example.com.invalid
        CC: qux@example.com.invalid

        x
        """

    @Test("RFC 5231 section 5 examples: :count over addresses and header fields")
    func rfcExamples() throws {
        let message = Self.rfc5231Message
        #expect(try check("address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] [\"3\"]", message))
        #expect(try !check("address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\"] [\"3\"]", message))
        #expect(try !check("header :count \"ge\" :comparator \"i;ascii-numeric\" [\"received\"] [\"3\"]", message))
        #expect(
            try check(
                "header :count \"ge\" :comparator \"i;ascii-numeric\" [\"received\", \"subject\"] [\"3\"]", message))
        #expect(try !check("header :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] [\"3\"]", message))
    }

    @Test(":value compares the leading digits as numbers; leading zeros do not matter")
    func numericValue() throws {
        let message = "X-Priority: 007 (low)\nX-Score: 12\n\nx"
        #expect(try check("header :value \"eq\" :comparator \"i;ascii-numeric\" \"x-priority\" \"7\"", message))
        #expect(try check("header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-score\" \"9\"", message))
        #expect(try !check("header :value \"gt\" :comparator \"i;ascii-casemap\" \"x-score\" \"9\"", message))
        #expect(try check("header :value \"le\" :comparator \"i;ascii-numeric\" \"x-score\" [\"1\", \"12\"]", message))
        #expect(
            try check("header :value \"ne\" :comparator \"i;ascii-numeric\" \"x-score\" \"012x\"", message) == false)
        #expect(
            try check(
                "header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-score\" \"99999999999999999999999\"", message)
        )
    }

    @Test("a value without leading digits is positive infinity (RFC 4790 section 9.1)")
    func infinity() throws {
        let message = "X-Score: none\nX-Other: n/a\n\nx"
        #expect(try check("header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-score\" \"99999\"", message))
        #expect(try check("header :value \"eq\" :comparator \"i;ascii-numeric\" \"x-score\" \"abc\"", message))
        #expect(try check("header :is :comparator \"i;ascii-numeric\" \"x-score\" \"x-other-value\"", message))
        #expect(try !check("header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-score\" \"5\"", message))
    }

    @Test(":count counts the values: missing header fields count 0, every address counts")
    func count() throws {
        #expect(try check("header :count \"eq\" :comparator \"i;ascii-numeric\" \"x-missing\" \"0\""))
        #expect(try check("header :count \"eq\" :comparator \"i;ascii-numeric\" \"received\" \"2\""))
        #expect(try check("address :count \"lt\" :comparator \"i;ascii-numeric\" \"to\" \"3\""))
        #expect(try check("address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\", \"from\"] \"4\""))
    }

    @Test("RFC 5228 section 2.7.3: the built-in comparators may be required; unknown ones may not")
    func requireBuiltIn() throws {
        let script = """
            require ["comparator-i;octet", "comparator-i;ascii-casemap", "fileinto"];
            if header :is :comparator "i;octet" "subject" "Meeting tomorrow" { fileinto "octet"; }
            """
        #expect(try runSieve(script) == filedInto("octet"))
        #expect(
            compileErrorText("require \"comparator-i;unicode-casemap\";")
                == "line 1: error: require command: unknown Sieve capability `comparator-i;unicode-casemap'.")
    }

    @Test("comparator errors: not required, unknown, :contains with i;ascii-numeric, bad relation")
    func compileErrors() {
        #expect(
            compileErrorText(
                "require \"relational\";\nif header :value \"gt\" :comparator \"i;ascii-numeric\" \"x\" \"1\" { keep; }"
            )
                == "line 2: error: unknown comparator 'i;ascii-numeric' (only available after require :comparator-i;ascii-numeric)."
        )
        #expect(
            compileErrorText("if header :comparator \"i;unknown\" \"x\" \"1\" { keep; }")
                == "line 1: error: unknown comparator 'i;unknown'.")
        #expect(
            compileErrorText(
                "require \"comparator-i;ascii-numeric\";\nif header :contains :comparator \"i;ascii-numeric\" \"x\" \"1\" { keep; }"
            )
                == "line 2: error: the specified i;ascii-numeric comparator does not support sub-string matching as required by the :contains match type."
        )
        #expect(
            compileErrorText("require \"relational\";\nif header :value \"gte\" \"x\" \"1\" { keep; }")
                == "line 2: error: invalid relational operator 'gte' for the :value match type of the header test (expected gt, ge, lt, le, eq or ne)."
        )
        #expect(
            compileErrorText("if header :count \"eq\" \"x\" \"1\" { keep; }")
                == "line 1: error: unknown tagged argument ':count' for the header test (only available after require :relational)."
        )
        #expect(
            compileErrorText("require \"relational\";\nif header :count \"eq\" :is \"x\" \"1\" { keep; }")
                == "line 2: error: encountered duplicate match type argument (:is) for the header test.")
    }
}
