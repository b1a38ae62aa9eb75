import Testing

@testable import HomingSieve

/// RFC 5230 vacation (section 4 and 7 examples) and RFC 6131 vacation-seconds.
@Suite("Conformance: RFC 5230 vacation and RFC 6131 vacation-seconds")
struct ConformanceRFC5230Tests {
    private func vacations(
        _ script: String, message: String = conformanceMessage, settings: SieveRuntimeSettings = .init()
    )
        throws -> [SieveVacationRequest]
    {
        try runSieve(script, message: message, settings: settings).actions.compactMap {
            if case .vacation(let request) = $0 { return request }
            return nil
        }
    }

    static let week = 7 * 86_400

    @Test("RFC 5230 section 4 example: the reason depends on the subject; the implicit keep stays")
    func sectionFourExample() throws {
        let script = """
            require "vacation";
            if header :contains "subject" "cyrus" {
                vacation "I'm out -- send mail to cyrus-bugs";
            } else {
                vacation "I'm out -- call me at +1 304 555 0123";
            }
            """
        let cyrus = "From: x@example.org\nSubject: about cyrus\n\nhi"
        #expect(
            try runSieve(script, message: cyrus)
                == SieveResult(
                    actions: [
                        .vacation(SieveVacationRequest(reason: "I'm out -- send mail to cyrus-bugs", period: Self.week))
                    ],
                    implicitKeep: true))
        #expect(
            try vacations(script) == [
                SieveVacationRequest(reason: "I'm out -- call me at +1 304 555 0123", period: Self.week)
            ])
    }

    @Test("RFC 5230 section 4.1 example: :days with :addresses")
    func daysAndAddresses() throws {
        let script = """
            require "vacation";
            vacation :days 23 :addresses ["tjs@example.edu",
                                          "ts4z@landru.example.edu"]
               "I'm away until October 19.  If it's an emergency, call 911, I guess." ;
            """
        #expect(
            try vacations(script) == [
                SieveVacationRequest(
                    reason: "I'm away until October 19.  If it's an emergency, call 911, I guess.",
                    addresses: ["tjs@example.edu", "ts4z@landru.example.edu"], period: 23 * 86_400)
            ])
    }

    @Test("RFC 5230 section 4.2 example: redirect or vacation depending on the sender")
    func redirectOrVacation() throws {
        let script = """
            require "vacation";
            if header :contains "from" "boss@example.edu" {
                redirect "pleeb@isp.example.org";
            } else {
                vacation "Sorry, I'm away, I'll read your message when I get around to it.";
            }
            """
        let boss = "From: The Boss <boss@example.edu>\nSubject: now\n\nhi"
        #expect(
            try runSieve(script, message: boss)
                == SieveResult(actions: [.redirect(address: "pleeb@isp.example.org", copy: false)], implicitKeep: false)
        )
        #expect(
            try vacations(script) == [
                SieveVacationRequest(
                    reason: "Sorry, I'm away, I'll read your message when I get around to it.", period: Self.week)
            ])
    }

    @Test("RFC 5230 section 4.3 example: the reason in the sender's language")
    func language() throws {
        let script = """
            require "vacation";
            if header :contains ["accept-language", "content-language"] "en" {
                vacation "I am away this week.";
            } else {
                vacation "Estoy ausente esta semana.";
            }
            """
        #expect(
            try vacations(script, message: "Content-Language: en-GB\nFrom: a@b.c\n\nx")
                == [SieveVacationRequest(reason: "I am away this week.", period: Self.week)])
        #expect(
            try vacations(script) == [SieveVacationRequest(reason: "Estoy ausente esta semana.", period: Self.week)])
    }

    @Test("RFC 5230 section 4.4 example: :subject with a match variable, :from and :handle")
    func subjectFromHandle() throws {
        let script = """
            require ["vacation", "variables"];
            if header :matches "subject" "*" {
                vacation :subject "Automatic response to: ${1}" :from "hemingway@example.com"
                    :handle "ran-away" "I'm away";
            }
            """
        #expect(
            try vacations(script) == [
                SieveVacationRequest(
                    reason: "I'm away", subject: "Automatic response to: Meeting tomorrow",
                    from: "hemingway@example.com", handle: "ran-away", period: Self.week)
            ])
    }

    @Test("RFC 5230 section 4.5/4.6 example: a :mime reason is kept verbatim with mime set")
    func mimeReason() throws {
        let script = """
            require "vacation";
            vacation :mime text:
            Content-Type: multipart/alternative; boundary=foo

            --foo

            I'm at the beach relaxing.  Mmmm, surf...

            --foo
            Content-Type: text/html; charset=us-ascii

            <P>I'm at the <I>beach</I> relaxing.
            ..
            --foo--
            .
            ;
            """
        let reason = """
            Content-Type: multipart/alternative; boundary=foo

            --foo

            I'm at the beach relaxing.  Mmmm, surf...

            --foo
            Content-Type: text/html; charset=us-ascii

            <P>I'm at the <I>beach</I> relaxing.
            .
            --foo--

            """
        #expect(try vacations(script) == [SieveVacationRequest(reason: reason, mime: true, period: Self.week)])
    }

    @Test(":days is clamped to sieve_vacation_min_period and max_period; max 0 (the default) is no bound")
    func daysClamped() throws {
        #expect(try vacations("require \"vacation\";\nvacation :days 0 \"x\";").map(\.period) == [86_400])
        // Pigeonhole's sieve_vacation_max_period default is 0: no upper bound.
        #expect(try vacations("require \"vacation\";\nvacation :days 1000 \"x\";").map(\.period) == [1000 * 86_400])
        let unbounded = SieveRuntimeSettings(vacationMinPeriod: 0, vacationMaxPeriod: 0)
        #expect(
            try vacations("require \"vacation\";\nvacation :days 5000 \"x\";", settings: unbounded).map(\.period)
                == [5000 * 86_400])
        let settings = SieveRuntimeSettings(
            vacationMinPeriod: 3600, vacationMaxPeriod: 10 * 86_400, vacationDefaultPeriod: 2 * 86_400)
        #expect(
            try vacations("require \"vacation\";\nvacation \"x\";", settings: settings).map(\.period) == [2 * 86_400])
        #expect(
            try vacations("require \"vacation\";\nvacation :days 30 \"x\";", settings: settings).map(\.period) == [
                10 * 86_400
            ])
    }

    @Test("RFC 6131 :seconds, with 0 meaning always when the minimum allows it")
    func seconds() throws {
        let script = "require \"vacation-seconds\";\nvacation :seconds 1800 :subject \"Away\" \"back soon\";"
        let settings = SieveRuntimeSettings(vacationMinPeriod: 0)
        #expect(
            try vacations(script, settings: settings)
                == [SieveVacationRequest(reason: "back soon", subject: "Away", period: 1800)])
        #expect(try vacations(script).map(\.period) == [86_400])
        #expect(
            try vacations("require \"vacation-seconds\";\nvacation :seconds 0 \"x\";", settings: settings).map(\.period)
                == [0])
    }

    @Test("variables expand in :from, :addresses and :handle")
    func variablesExpand() throws {
        let script = """
            require ["vacation", "variables"];
            set "me" "bob@example.com";
            vacation :from "${me}" :addresses ["${me}", "b@example.com"] :handle "h-${me}" "Away";
            """
        #expect(
            try vacations(script) == [
                SieveVacationRequest(
                    reason: "Away", from: "bob@example.com", addresses: ["bob@example.com", "b@example.com"],
                    handle: "h-bob@example.com", period: Self.week)
            ])
    }

    @Test("vacation errors: extension, :seconds without vacation-seconds, :days with :seconds, bad :from")
    func compileErrors() {
        #expect(
            compileErrorText("vacation \"x\";")
                == "line 1: error: unknown command 'vacation' (only available after require :vacation).")
        #expect(
            compileErrorText("require \"vacation\";\nvacation :seconds 60 \"x\";")
                == "line 2: error: unknown tagged argument ':seconds' for the vacation command (only available after require :vacation-seconds)."
        )
        #expect(
            compileErrorText("require \"vacation-seconds\";\nvacation :days 1 :seconds 60 \"x\";")
                == "line 2: error: encountered duplicate period argument (:seconds) for the vacation command.")
        #expect(
            compileErrorText("require \"vacation\";\nvacation :from \"not an address\" \"x\";")
                == "line 2: error: specified :from address 'not an address' is invalid for vacation action: invalid character ' ' in the address."
        )
        #expect(
            compileErrorText("require \"vacation\";\nvacation :days \"7\" \"x\";")
                == "line 2: error: the :days tag for the vacation command requires a number as parameter, but a string was found."
        )
        #expect(
            compileErrorText("require \"vacation\";\nvacation :mime;")
                == "line 2: error: the vacation command requires 1 positional argument(s), but 0 is/are specified.")
    }
}
