import Testing

@testable import HomingSieve

/// RFC 7352 duplicate: the key from Message-ID, `:header`, `:uniqueid`, `:handle`, `:seconds`, `:last`.
@Suite("Conformance: RFC 7352 duplicate")
struct ConformanceRFC7352Tests {
    private static let fortnight = 14 * 86_400

    @Test("RFC 7352 section 3 example: a duplicate files into Trash/Duplicate")
    func firstExample() throws {
        let script = """
            require ["duplicate", "fileinto", "mailbox"];
            if duplicate {
              fileinto :create "Trash/Duplicate";
            }
            """
        let key = SieveExecution.duplicateKey(handle: "", value: "<1234@example.org>")
        #expect(
            try runSieve(script)
                == SieveResult(duplicateMarks: [SieveDuplicateMark(key: key, period: Self.fortnight)]))
        var environment = ConformanceEnvironment()
        environment.duplicates = [key]
        #expect(
            try runSieve(script, environment: environment)
                == SieveResult(
                    actions: [.fileInto(mailbox: "Trash/Duplicate", flags: [], create: true, copy: false)],
                    implicitKeep: false))
    }

    @Test("RFC 7352 section 3 example: :seconds with :uniqueid from a match variable")
    func alertsExample() throws {
        let script = """
            require ["duplicate", "variables", "imap4flags", "fileinto"];
            if header :matches "subject" "ALERT: *" {
              if duplicate :seconds 60 :uniqueid "${1}" {
                setflag "\\\\seen";
              }
              fileinto "Alerts";
            }
            """
        let message = "Subject: ALERT: disk full on host1\nMessage-ID: <a@b>\n\nx"
        let key = SieveExecution.duplicateKey(handle: "", value: "disk full on host1")
        #expect(
            try runSieve(script, message: message)
                == SieveResult(
                    actions: [.fileInto(mailbox: "Alerts", flags: [], create: false, copy: false)], implicitKeep: false,
                    duplicateMarks: [SieveDuplicateMark(key: key, period: 60)]))
        var environment = ConformanceEnvironment()
        environment.duplicates = [key]
        #expect(
            try runSieve(script, message: message, environment: environment)
                == SieveResult(
                    actions: [.fileInto(mailbox: "Alerts", flags: ["\\Seen"], create: false, copy: false)],
                    implicitKeep: false))
    }

    @Test(":header picks the tracked field; a missing field is never a duplicate and is not tracked")
    func headerTag() throws {
        let message = "X-Event-ID: ev-42\nSubject: x\n\nx"
        let key = SieveExecution.duplicateKey(handle: "notifier", value: "ev-42")
        let script = "require \"duplicate\";\nif duplicate :header \"X-Event-ID\" :handle \"notifier\" { discard; }"
        #expect(
            try runSieve(script, message: message)
                == SieveResult(duplicateMarks: [SieveDuplicateMark(key: key, period: Self.fortnight)]))
        var environment = ConformanceEnvironment()
        environment.duplicates = [key]
        #expect(
            try runSieve(script, message: message, environment: environment)
                == SieveResult(actions: [.discard], implicitKeep: false))
        #expect(try runSieve(script) == implicitKeepOnly)
        #expect(
            try runSieve("require \"duplicate\";\nif duplicate { discard; }", message: "Subject: x\n\nx")
                == implicitKeepOnly)
    }

    @Test("handles separate the tracking: the same id under another handle is new")
    func handles() throws {
        var environment = ConformanceEnvironment()
        environment.duplicates = [SieveExecution.duplicateKey(handle: "a", value: "<1234@example.org>")]
        #expect(
            try runSieve("require \"duplicate\";\nif duplicate :handle \"a\" { discard; }", environment: environment)
                .implicitKeep == false)
        #expect(
            try runSieve("require \"duplicate\";\nif duplicate :handle \"b\" { discard; }", environment: environment)
                .implicitKeep)
        #expect(
            try runSieve("require \"duplicate\";\nif duplicate { discard; }", environment: environment).implicitKeep)
    }

    @Test(":last renews the mark of a duplicate; without it a duplicate is not marked again")
    func last() throws {
        let key = SieveExecution.duplicateKey(handle: "", value: "<1234@example.org>")
        var environment = ConformanceEnvironment()
        environment.duplicates = [key]
        let plain = try runSieve(
            "require \"duplicate\";\nif duplicate :seconds 300 { discard; }", environment: environment)
        #expect(plain.duplicateMarks == [])
        let last = try runSieve(
            "require \"duplicate\";\nif duplicate :last :seconds 300 { discard; }", environment: environment)
        #expect(last.duplicateMarks == [SieveDuplicateMark(key: key, period: 300)])
        #expect(last.implicitKeep == false)
    }

    @Test("duplicate errors: extension, :header with :uniqueid, a bad header name, a string for :seconds")
    func compileErrors() {
        #expect(
            compileErrorText("if duplicate { discard; }")
                == "line 1: error: unknown test 'duplicate' (only available after require :duplicate).")
        #expect(
            compileErrorText("require \"duplicate\";\nif duplicate :header \"X-A\" :uniqueid \"1\" { discard; }")
                == "line 2: error: encountered duplicate unique id argument (:uniqueid) for the duplicate test.")
        #expect(
            compileErrorText("require \"duplicate\";\nif duplicate :header \"X A:\" { discard; }")
                == "line 2: error: the duplicate test: specified header field name 'X A:' is invalid.")
        #expect(
            compileErrorText("require \"duplicate\";\nif duplicate :seconds \"60\" { discard; }")
                == "line 2: error: the :seconds tag for the duplicate test requires a number as parameter, but a string was found."
        )
    }
}
