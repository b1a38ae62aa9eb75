import Foundation
import Testing

@testable import HomingSieve

/// RFC 5260 date, currentdate and index.
@Suite("Conformance: RFC 5260 date and index")
struct ConformanceRFC5260Tests {
    /// Date: Fri, 01 Mar 2024 10:30:00 +0100; Received dates 10:29 and 10:28 (+0100), in order.
    private func holdsOn(_ require: String, _ test: String, message: String = conformanceMessage) throws -> Bool {
        try !runSieve("require \(require);\nif \(test) { discard; }", message: message).implicitKeep
    }

    @Test("every date part of the Date header in its original zone")
    func dateParts() throws {
        let expected: [(String, String)] = [
            ("year", "2024"), ("month", "03"), ("day", "01"), ("date", "2024-03-01"), ("julian", "60370"),
            ("hour", "10"), ("minute", "30"), ("second", "00"), ("time", "10:30:00"),
            ("iso8601", "2024-03-01T10:30:00+01:00"), ("std11", "Fri, 01 Mar 2024 10:30:00 +0100"),
            ("zone", "+0100"), ("weekday", "5"),
        ]
        for (part, value) in expected {
            #expect(
                try holdsOn("\"date\"", "date :originalzone :is \"date\" \"\(part)\" \"\(value)\""),
                "date part \(part) should be \(value)")
        }
    }

    @Test(":zone converts the date; a date crossing midnight changes day and weekday")
    func zoneConversion() throws {
        #expect(try holdsOn("\"date\"", "date :zone \"-0500\" :is \"date\" \"iso8601\" \"2024-03-01T04:30:00-05:00\""))
        #expect(try holdsOn("\"date\"", "date :zone \"-1100\" :is \"date\" \"date\" \"2024-02-29\""))
        #expect(try holdsOn("\"date\"", "date :zone \"-1100\" :is \"date\" \"weekday\" \"4\""))
        #expect(try holdsOn("\"date\"", "date :zone \"+0530\" :is \"date\" \"time\" \"15:00:00\""))
        #expect(try holdsOn("\"date\"", "date :zone \"+0530\" :is \"date\" \"zone\" \"+0530\""))
    }

    @Test("RFC 5260 section 7 example: business hours in the sender's zone")
    func businessHours() throws {
        let script = """
            require ["date", "relational", "fileinto"];
            if allof(header :is "from" "boss@example.com",
                     date :value "ge" :originalzone "date" "hour" "09",
                     date :value "lt" :originalzone "date" "hour" "17")
            { fileinto "urgent"; }
            """
        let inHours = "From: boss@example.com\nDate: Tue, 5 Mar 2024 16:59:59 -0800\n\nx"
        let late = "From: boss@example.com\nDate: Tue, 5 Mar 2024 17:00:00 -0800\n\nx"
        #expect(try runSieve(script, message: inHours) == filedInto("urgent"))
        #expect(try runSieve(script, message: late) == implicitKeepOnly)
    }

    @Test("RFC 5260 section 7 example: weekend mail by the Received date")
    func weekend() throws {
        let script = """
            require ["date", "relational", "fileinto"];
            if anyof(date :is :originalzone "received" "weekday" "0",
                     date :is :originalzone "received" "weekday" "6")
            { fileinto "weekend"; }
            """
        let saturday = "Received: from a by b with ESMTP id 1; Sat, 02 Mar 2024 08:00:00 +0000\nFrom: x@y.z\n\nx"
        #expect(try runSieve(script, message: saturday) == filedInto("weekend"))
        #expect(try runSieve(script) == implicitKeepOnly)
    }

    @Test("RFC 5260 section 7 example: folder by year and month from match variables")
    func yearMonth() throws {
        let script = """
            require ["date", "variables", "fileinto"];
            if date :originalzone :matches "received" "year" "*" { set "year" "${1}"; }
            if date :originalzone :matches "received" "month" "*" { set "month" "${1}"; }
            fileinto "INBOX.${year}-${month}";
            """
        #expect(try runSieve(script) == filedInto("INBOX.2024-03"))
    }

    @Test("RFC 5260 section 7 example: currentdate between two dates gives a vacation")
    func currentdateRange() throws {
        let script = """
            require ["date", "relational", "vacation"];
            if allof(currentdate :value "ge" "date" "2024-02-28",
                     currentdate :value "le" "date" "2024-03-07")
            { vacation :days 7  "I'm away during the first week in March."; }
            """
        #expect(
            try runSieve(script).actions == [
                .vacation(SieveVacationRequest(reason: "I'm away during the first week in March.", period: 7 * 86_400))
            ])
    }

    @Test("currentdate parts at 2024-03-01 12:00:00 UTC with :zone")
    func currentdateParts() throws {
        // RFC 5260 section 4.2: "a time zone offset of zero MUST be represented by Z".
        #expect(try holdsOn("\"date\"", "currentdate :zone \"+0000\" :is \"iso8601\" \"2024-03-01T12:00:00Z\""))
        #expect(try !holdsOn("\"date\"", "currentdate :zone \"+0000\" :is \"iso8601\" \"2024-03-01T12:00:00+00:00\""))
        #expect(try holdsOn("\"date\"", "currentdate :zone \"-0500\" :is \"iso8601\" \"2024-03-01T07:00:00-05:00\""))
        #expect(try holdsOn("\"date\"", "currentdate :zone \"+0000\" :is \"julian\" \"60370\""))
        #expect(try holdsOn("\"date\"", "currentdate :zone \"+1300\" :is \"date\" \"2024-03-02\""))
        #expect(try holdsOn("\"date\"", "currentdate :zone \"+1300\" :is \"weekday\" \"6\""))
        #expect(try holdsOn("[\"date\", \"variables\"]", "currentdate :zone \"-0230\" :matches \"time\" \"09:30:*\""))
    }

    @Test("a missing or unparsable Date header makes the date test false")
    func missingDate() throws {
        #expect(
            try !holdsOn("\"date\"", "date :originalzone :matches \"date\" \"year\" \"*\"", message: "Subject: x\n\nx"))
        #expect(
            try !holdsOn("\"date\"", "date :originalzone :matches \"date\" \"year\" \"*\"", message: "Date: soon\n\nx"))
        #expect(
            try holdsOn(
                "\"date\"", "date :originalzone :is \"x-date\" \"std11\" \"Sun, 31 Dec 2023 23:59:59 +0000\"",
                message: "X-Date: Sun, 31 Dec 2023 23:59:59 +0000 (UTC)\n\nx"))
    }

    @Test("a leap second stays in its minute and year")
    func leapSecond() throws {
        let message = "X-Date: Sun, 31 Dec 2023 23:59:60 +0000\n\nx"
        #expect(try holdsOn("\"date\"", "date :originalzone :is \"x-date\" \"year\" \"2023\"", message: message))
        #expect(try holdsOn("\"date\"", "date :originalzone :is \"x-date\" \"time\" \"23:59:59\"", message: message))
    }

    @Test("RFC 5260 section 6: :index counts fields from the top, :last from the bottom")
    func index() throws {
        let message = """
            Received: from c by d; Fri, 01 Mar 2024 10:30:00 +0000
            Received: from b by c; Fri, 01 Mar 2024 10:20:00 +0000
            Received: from a by b; Fri, 01 Mar 2024 10:10:00 +0000
            Subject: x

            x
            """
        #expect(
            try holdsOn(
                "[\"date\", \"index\"]", "date :originalzone :index 1 \"received\" \"minute\" \"30\"", message: message)
        )
        #expect(
            try holdsOn(
                "[\"date\", \"index\"]", "date :originalzone :index 1 :last \"received\" \"minute\" \"10\"",
                message: message))
        #expect(
            try holdsOn(
                "[\"date\", \"index\"]", "date :originalzone :index 2 :last \"received\" \"minute\" \"20\"",
                message: message))
        #expect(
            try !holdsOn(
                "[\"date\", \"index\"]", "date :originalzone :index 4 \"received\" \"minute\" \"10\"", message: message)
        )
        #expect(try holdsOn("\"index\"", "header :index 3 :contains \"received\" \"from a\"", message: message))
        #expect(try holdsOn("\"index\"", "header :index 1 :last :contains \"received\" \"from a\"", message: message))
        #expect(try !holdsOn("\"index\"", "header :index 2 :contains \"received\" \"from a\"", message: message))
        #expect(
            try holdsOn(
                "\"index\"", "address :index 1 :is \"to\" \"carol@example.net\"",
                message: "To: a@x.y\nTo: carol@example.net\n\nx") == false)
        #expect(
            try holdsOn(
                "\"index\"", "address :index 2 :is \"to\" \"carol@example.net\"",
                message: "To: a@x.y\nTo: carol@example.net\n\nx"))
    }

    @Test("date and index errors with their messages")
    func compileErrors() {
        #expect(
            compileErrorText("if date :is \"date\" \"year\" \"2024\" { keep; }")
                == "line 1: error: unknown test 'date' (only available after require :date).")
        #expect(
            compileErrorText("require \"date\";\nif date :zone \"CET\" :is \"date\" \"year\" \"2024\" { keep; }")
                == "line 2: error: specified :zone argument 'CET' is not a valid timezone (expected +hhmm or -hhmm).")
        // An unknown date part is a warning and a false test (verified with Pigeonhole 0.5.19).
        #expect(compileErrorText("require \"date\";\nif date :is \"date\" \"century\" \"21\" { keep; }") == nil)
        #expect(
            compileErrorText("require \"date\";\nif currentdate :originalzone :is \"year\" \"2024\" { keep; }")
                == "line 2: error: unknown tagged argument ':originalzone' for the currentdate test (reported only once at first occurrence).")
        #expect(
            compileErrorText("require \"date\";\nif header :index 1 :is \"to\" \"x\" { keep; }")
                == "line 2: error: unknown tagged argument ':index' for the header test (only available after require :index)."
        )
        #expect(
            compileErrorText("require \"index\";\nif header :last :is \"to\" \"x\" { keep; }")
                == "line 2: error: the :last tag for the header test requires the :index tag as well.")
        #expect(
            compileErrorText("require \"index\";\nif header :index 0 :is \"to\" \"x\" { keep; }")
                == "line 2: error: the :index tag for the header test requires a field index greater than zero (fields are counted from 1)."
        )
    }
}
