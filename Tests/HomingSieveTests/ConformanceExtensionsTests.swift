import Foundation
import Testing

@testable import HomingSieve

/// subaddress, relational, body, vacation, mailbox, include, environment, duplicate, date, index.
@Suite("Conformance: extensions")
struct ConformanceExtensionsTests {
    private func holds(_ require: String, _ test: String, message: String = conformanceMessage,
        environment: ConformanceEnvironment = ConformanceEnvironment(), settings: SieveRuntimeSettings = .init()
    ) throws -> Bool {
        try !runSieve(
            "require \(require);\nif \(test) { discard; }", message: message, environment: environment, settings: settings
        ).implicitKeep
    }

    @Test("RFC 5233 subaddress :user and :detail with recipient_delimiter")
    func subaddress() throws {
        #expect(try holds("[\"subaddress\", \"envelope\"]", "envelope :detail \"to\" \"lists\""))
        #expect(try holds("[\"subaddress\", \"envelope\"]", "envelope :user \"to\" \"bob\""))
        #expect(try holds("\"subaddress\"", "address :user \"to\" \"carol\""))
        #expect(try !holds("\"subaddress\"", "address :detail :matches \"from\" \"*\""))
    }

    @Test("several delimiter characters: the first one found splits")
    func severalDelimiters() throws {
        let settings = SieveRuntimeSettings(recipientDelimiter: "-+")
        let message = "To: bob-a+b@example.com\n\nx"
        #expect(try holds("\"subaddress\"", "address :detail \"to\" \"a+b\"", message: message, settings: settings))
        #expect(try holds("\"subaddress\"", "address :user \"to\" \"bob\"", message: message, settings: settings))
    }

    @Test("RFC 5231 relational :value and :count")
    func relational() throws {
        let numeric = "[\"relational\", \"comparator-i;ascii-numeric\"]"
        #expect(try holds(numeric, "header :value \"ge\" :comparator \"i;ascii-numeric\" \"X-Spam-Score\" \"5\""))
        #expect(try !holds(numeric, "header :value \"lt\" :comparator \"i;ascii-numeric\" \"X-Spam-Score\" \"5\""))
        #expect(try holds(numeric, "address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\""))
        #expect(try holds(numeric, "header :count \"eq\" :comparator \"i;ascii-numeric\" \"X-None\" \"0\""))
    }

    @Test("RFC 5173 body :contains")
    func body() throws {
        #expect(try holds("\"body\"", "body :contains \"see you\""))
        #expect(try !holds("\"body\"", "body :raw :contains \"goodbye\""))
    }

    @Test("RFC 5230 vacation: parameters and period from :days (no upper bound by default, as in Pigeonhole)")
    func vacation() throws {
        let script = """
            require "vacation";
            vacation :days 200 :subject "Away" :from "bob@example.com" :addresses ["bob@example.com", "b@example.com"]
              :handle "h1" "I am away.";
            """
        let expected = SieveVacationRequest(
            reason: "I am away.", subject: "Away", from: "bob@example.com", addresses: ["bob@example.com", "b@example.com"],
            handle: "h1", period: 200 * 86_400)
        #expect(try runSieve(script) == SieveResult(actions: [.vacation(expected)], implicitKeep: true))
    }

    @Test("RFC 6131 vacation :seconds, default period and lower bound")
    func vacationSeconds() throws {
        let seconds = try runSieve("require [\"vacation\", \"vacation-seconds\"];\nvacation :seconds 7200 \"x\";")
        #expect(seconds.actions == [.vacation(SieveVacationRequest(reason: "x", period: 86_400))])
        let settings = SieveRuntimeSettings(vacationMinPeriod: 0)
        let low = try runSieve(
            "require [\"vacation\", \"vacation-seconds\"];\nvacation :seconds 7200 \"x\";", settings: settings)
        #expect(low.actions == [.vacation(SieveVacationRequest(reason: "x", period: 7200))])
        let plain = try runSieve("require \"vacation\";\nvacation :mime \"x\";")
        #expect(plain.actions == [.vacation(SieveVacationRequest(reason: "x", mime: true, period: 7 * 86_400))])
    }

    @Test("RFC 5490 mailboxexists and fileinto :create")
    func mailbox() throws {
        var environment = ConformanceEnvironment()
        environment.mailboxes = ["INBOX", "Lists"]
        #expect(try holds("\"mailbox\"", "mailboxexists [\"INBOX\", \"Lists\"]", environment: environment))
        #expect(try !holds("\"mailbox\"", "mailboxexists [\"INBOX\", \"Other\"]", environment: environment))
        let result = try runSieve("require [\"fileinto\", \"mailbox\"];\nfileinto :create \"New\";")
        #expect(result.actions == [.fileInto(mailbox: "New", flags: [], create: true, copy: false)])
    }

    @Test("RFC 5183 environment items; a missing item is false")
    func environment() throws {
        #expect(try holds("\"environment\"", "environment :is \"domain\" \"example.com\""))
        #expect(try !holds("\"environment\"", "environment :contains \"remote-ip\" \"\""))
    }

    @Test("RFC 6609 include with global variables and return")
    func include() throws {
        var environment = ConformanceEnvironment()
        environment.includes["personal:lists"] = """
            require ["include", "variables", "fileinto"];
            global "target";
            if header :contains "subject" "meeting" { set "target" "Meetings"; return; }
            set "target" "Other";
            """
        let script = """
            require ["include", "variables", "fileinto"];
            global "target";
            include "lists";
            fileinto "${target}";
            """
        #expect(try runSieve(script, environment: environment) == filedInto("Meetings"))
    }

    @Test("include :once, :optional, a missing script and recursion")
    func includeRules() throws {
        var environment = ConformanceEnvironment()
        environment.includes["global:a"] = "require \"fileinto\";\nfileinto \"A\";"
        environment.includes["personal:loop"] = "require \"include\";\ninclude \"loop\";"
        let once = try runSieve(
            "require \"include\";\ninclude :global :once \"a\";\ninclude :global :once \"a\";\ninclude :optional \"none\";",
            environment: environment)
        #expect(once == filedInto("A"))
        let missing = try runtimeError("require \"include\";\ninclude \"none\";", environment: environment)
        #expect(missing?.message.hasPrefix("include: failed to include personal script 'none'") == true)
        let loop = try runtimeError("require \"include\";\ninclude \"loop\";", environment: environment)
        #expect(loop?.message == "include: circular include of personal script 'loop'")
    }

    @Test("RFC 7352 duplicate: Message-ID key, marks, :last and :uniqueid")
    func duplicate() throws {
        let key = SieveExecution.duplicateKey(handle: "", value: "<1234@example.org>")
        let fresh = try runSieve("require \"duplicate\";\nif duplicate { discard; }")
        #expect(fresh == SieveResult(duplicateMarks: [SieveDuplicateMark(key: key, period: 14 * 86_400)]))
        var environment = ConformanceEnvironment()
        environment.duplicates = [key]
        let seen = try runSieve("require \"duplicate\";\nif duplicate { discard; }", environment: environment)
        #expect(seen == SieveResult(actions: [.discard], implicitKeep: false))
        let last = try runSieve("require \"duplicate\";\nif duplicate :last :seconds 60 { discard; }", environment: environment)
        #expect(last.duplicateMarks == [SieveDuplicateMark(key: key, period: 60)])
        let unique = try runSieve("require \"duplicate\";\nif duplicate :handle \"x\" :uniqueid \"abc\" { discard; }")
        #expect(unique.duplicateMarks == [SieveDuplicateMark(key: "1:x:abc", period: 14 * 86_400)])
    }

    @Test("RFC 5260 date with :originalzone and :zone, currentdate, and :index/:last")
    func date() throws {
        #expect(try holds("\"date\"", "date :originalzone :is \"date\" \"hour\" \"10\""))
        #expect(try holds("\"date\"", "date :zone \"+0000\" :is \"date\" \"hour\" \"09\""))
        #expect(try holds("\"date\"", "currentdate :zone \"+0000\" :is \"date\" \"2024-03-01\""))
        #expect(try holds("[\"date\", \"index\"]", "date :originalzone :index 1 :last :is \"received\" \"minute\" \"28\""))
        #expect(try holds("\"index\"", "header :index 2 :contains \"received\" \"from c\""))
    }
}
