import Testing

@testable import HomingSieve

/// RFC 5235 spamtest, spamtestplus and virustest with Pigeonhole's `sieve_spamtest_*` and
/// `sieve_virustest_*` settings: the RFC's examples, the values Pigeonhole 0.5.19 computes
/// (checked with `sieve-test` and the same settings), the configuration examples of
/// Pigeonhole's documentation, and bad settings.
@Suite("Conformance: RFC 5235 spamtest and virustest")
struct ConformanceRFC5235Tests {
    /// Pigeonhole doc example 4 (score with a regular expression and a fixed maximum, virus
    /// scan as text).
    static let settings: SieveRuntimeSettings = {
        var settings = SieveRuntimeSettings()
        settings.spamTest = try? SieveScoreTestSettings.parse(
            .spamtest, statusType: "score",
            statusHeader: "X-Spam-Score: score=(-?[[:digit:]]+\\.[[:digit:]]).*", maxValue: "10.0", maxHeader: nil)
        settings.virusTest = try? SieveScoreTestSettings.parse(
            .virustest, statusType: "text", statusHeader: "X-Virus-Scan: Found to be (.+)\\.", maxValue: nil,
            maxHeader: nil, textValues: [1: "clean", 5: "infected"])
        return settings
    }()

    static let scanned = """
        From: a@example.com
        To: b@example.com
        Subject: s
        X-Spam-Score: score=3.5 required=5.0
        X-Virus-Scan: Found to be infected.

        body
        """
    static let unscanned = "From: a@example.com\nTo: b@example.com\nSubject: s\n\nbody\n"

    private func folders(_ script: String, message: String = scanned, settings: SieveRuntimeSettings = settings)
        throws -> [String]
    {
        try runSieve(script, message: message, settings: settings).actions.compactMap {
            if case .fileInto(let mailbox, _, _, _) = $0 { return mailbox }
            if case .discard = $0 { return "discard" }
            return nil
        }
    }

    @Test("the normalized values Pigeonhole computes: 1-10, percent 0-100, virus 1-5, 0 when not tested")
    func values() throws {
        let script = """
            require ["spamtestplus", "virustest", "fileinto", "variables"];
            if spamtest :matches "*" { fileinto "s-${1}"; }
            if spamtest :percent :matches "*" { fileinto "p-${1}"; }
            if virustest :matches "*" { fileinto "v-${1}"; }
            """
        // Pigeonhole 0.5.19 with these settings: s-4 p-35 v-5, and s-0 p-0 v-0 without headers.
        #expect(try folders(script) == ["s-4", "p-35", "v-5"])
        #expect(try folders(script, message: Self.unscanned) == ["s-0", "p-0", "v-0"])
        // Not configured: always "0".
        #expect(try folders(script, settings: SieveRuntimeSettings()) == ["s-0", "p-0", "v-0"])
    }

    @Test("RFC 5235 section 3.2.1 example: unclassified and spam-trap")
    func spamtestExample() throws {
        let script = """
            require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];

            if spamtest :value "eq" :comparator "i;ascii-numeric" "0"
            {
                fileinto "INBOX.unclassified";
            }
            elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3"
            {
                fileinto "INBOX.spam-trap";
            }
            """
        #expect(try folders(script) == ["INBOX.spam-trap"])
        #expect(try folders(script, message: Self.unscanned) == ["INBOX.unclassified"])
    }

    @Test("RFC 5235 section 3.2.2 examples: :percent with :value, and with :count")
    func spamtestplusExamples() throws {
        let valueScript = """
            require ["spamtestplus", "fileinto", "relational",
                     "comparator-i;ascii-numeric"];
            if spamtest :value "eq"
                        :comparator "i;ascii-numeric" "0"
            {
                fileinto "INBOX.unclassified";
            }
            elsif spamtest :percent :value "eq"
                           :comparator "i;ascii-numeric" "0"
            {
                fileinto "INBOX.not-spam";
            }
            elsif spamtest :percent :value "lt"
                           :comparator "i;ascii-numeric" "37"
            {
                fileinto "INBOX.spam-trap";
            }
            else
            {
                discard;
            }
            """
        let countScript = valueScript.replacingOccurrences(
            of: "if spamtest :value \"eq\"\n            :comparator", with: "if spamtest :percent :count \"eq\"\n            :comparator")
        #expect(countScript != valueScript)
        for script in [valueScript, countScript] {
            #expect(try folders(script) == ["INBOX.spam-trap"])
            #expect(try folders(script, message: Self.unscanned) == ["INBOX.unclassified"])
            let clean = Self.scanned.replacingOccurrences(of: "score=3.5", with: "score=-1.0")
            #expect(try folders(script, message: clean) == ["INBOX.not-spam"])
            let spam = Self.scanned.replacingOccurrences(of: "score=3.5", with: "score=9.0")
            #expect(try folders(script, message: spam) == ["discard"])
        }
    }

    @Test("RFC 5235 section 3.1: :count is 0 when the message was not tested, 1 when it was")
    func count() throws {
        // Pigeonhole 0.5.19 counts 1 either way; the RFC says 0 for an untested message.
        let script = """
            require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
            if spamtest :count "eq" :comparator "i;ascii-numeric" "0" { fileinto "count0"; }
            if spamtest :count "eq" :comparator "i;ascii-numeric" "1" { fileinto "count1"; }
            """
        #expect(try folders(script) == ["count1"])
        #expect(try folders(script, message: Self.unscanned) == ["count0"])
    }

    @Test("RFC 5235 section 3.3 example: virustest")
    func virustestExample() throws {
        let script = """
            require ["virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
            if virustest :value "eq" :comparator "i;ascii-numeric" "0"
            {
                fileinto "INBOX.unclassified";
            }
            if virustest :value "eq" :comparator "i;ascii-numeric" "4"
            {
                fileinto "INBOX.quarantine";
            }
            elsif virustest :value "eq" :comparator "i;ascii-numeric" "5"
            {
                discard;
            }
            """
        #expect(try folders(script) == ["discard"])
        #expect(try folders(script, message: Self.unscanned) == ["INBOX.unclassified"])
        let clean = Self.scanned.replacingOccurrences(of: "infected", with: "clean")
        #expect(try folders(script, message: clean).isEmpty)
    }

    @Test("Pigeonhole's configuration examples: text, strlen, and the maximum from a header")
    func configurations() throws {
        func value(_ settings: SieveScoreTestSettings?, _ header: String, percent: Bool = false) throws -> String {
            var runtime = SieveRuntimeSettings()
            runtime.spamTest = settings
            let script = "require [\"spamtestplus\", \"fileinto\", \"variables\"];\nif spamtest \(percent ? ":percent " : "")"
                + ":matches \"*\" { fileinto \"${1}\"; }"
            return try folders(script, message: header + "\n\nbody\n", settings: runtime).first ?? "?"
        }
        let text = try SieveScoreTestSettings.parse(
            .spamtest, statusType: "text", statusHeader: "X-Spam-Status", maxValue: nil, maxHeader: nil,
            textValues: [1: "No", 10: "Yes"])
        #expect(try value(text, "X-Spam-Status: Yes") == "10")
        #expect(try value(text, "X-Spam-Status: No") == "1")
        #expect(try value(text, "X-Spam-Status: Maybe") == "0")
        let strlen = try SieveScoreTestSettings.parse(
            .spamtest, statusType: "strlen", statusHeader: "X-Spam-Score", maxValue: "5", maxHeader: nil)
        #expect(try value(strlen, "X-Spam-Score: sssssss") == "10")
        #expect(try value(strlen, "X-Spam-Score: ss", percent: true) == "40")
        #expect(try value(strlen, "X-Spam-Score: sxs") == "0")
        let fromHeader = try SieveScoreTestSettings.parse(
            .spamtest, statusType: "score",
            statusHeader: "X-Spam-Score: score=(-?[[:digit:]]+\\.[[:digit:]]).*", maxValue: nil,
            maxHeader: "X-Spam-Score: score=-?[[:digit:]]+\\.[[:digit:]] required=([[:digit:]]+\\.[[:digit:]])")
        #expect(try value(fromHeader, "X-Spam-Score: score=3.2 required=5.0", percent: true) == "64")
        #expect(try value(fromHeader, "X-Spam-Score: score=3.2 required=0.0") == "0")
    }

    @Test("settings Pigeonhole refuses are errors naming the setting")
    func badSettings() {
        #expect(
            (try? SieveScoreTestSettings.parse(.spamtest, statusType: nil, statusHeader: nil, maxValue: nil, maxHeader: nil))
                == .some(nil))
        #expect(throws: SieveScoreTestSettingError.self) {
            try SieveScoreTestSettings.parse(.spamtest, statusType: "fuzzy", statusHeader: "X", maxValue: "1", maxHeader: nil)
        }
        #expect(
            throws: SieveScoreTestSettingError(
                setting: "sieve_virustest_max_header",
                message: "sieve_virustest_max_header and sieve_virustest_max_value cannot both be configured")
        ) {
            try SieveScoreTestSettings.parse(.virustest, statusType: nil, statusHeader: "X", maxValue: "1", maxHeader: "Y")
        }
        #expect(throws: SieveScoreTestSettingError.self) {
            try SieveScoreTestSettings.parse(.spamtest, statusType: nil, statusHeader: "X", maxValue: nil, maxHeader: nil)
        }
        #expect(throws: SieveScoreTestSettingError.self) {
            try SieveScoreTestSettings.parse(.spamtest, statusType: nil, statusHeader: "X: ([", maxValue: "1", maxHeader: nil)
        }
        #expect(throws: SieveScoreTestSettingError.self) {
            try SieveScoreTestSettings.parse(.spamtest, statusType: nil, statusHeader: "X", maxValue: "1234567", maxHeader: nil)
        }
    }

    @Test("spamtest errors: :percent needs spamtestplus; both required is a warning (Pigeonhole's texts)")
    func compileChecks() throws {
        #expect(
            compileErrorText("require \"spamtest\";\nif spamtest :percent \"0\" { discard; }")
                == "line 2: error: the spamtest test only accepts the :percent argument when the spamtestplus extension is active."
        )
        let both = try SieveCompiledScript.compile("require [\"spamtest\", \"spamtestplus\"];\nif spamtest \"0\" { discard; }")
        #expect(
            both.warnings.map(\.description) == [
                "line 1: warning: the spamtest and spamtestplus extensions should not be specified at the same time."
            ])
        #expect(
            compileErrorText("if spamtest \"0\" { discard; }")
                == "line 1: error: unknown test 'spamtest' (only available after require :spamtest).")
    }

    @Test("a hostile status header cannot stall the test: the value is bounded")
    func hostileHeader() throws {
        let huge = "X-Spam-Score: score=" + String(repeating: "9", count: 200_000) + "\n\nbody\n"
        #expect(try folders("require [\"spamtest\", \"fileinto\", \"variables\"];\nif spamtest :matches \"*\" { fileinto \"${1}\"; }", message: huge) == ["0"])
    }
}
