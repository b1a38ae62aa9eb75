import Foundation
import Testing

@testable import HomingSieve

@Suite("Dates (RFC 5260, RFC 5322)")
struct SieveDateTimeTests {
    @Test("an RFC 5322 date-time gives every RFC 5260 date part in its own zone")
    func parts() throws {
        let date = try #require(SieveDateTime.parse("Tue, 1 Jul 2003 10:52:37 +0200"))
        #expect(date.zoneOffset == 7200)
        #expect(date.date == Date(timeIntervalSince1970: 1_057_049_557))
        #expect(date.part("year") == "2003")
        #expect(date.part("month") == "07")
        #expect(date.part("day") == "01")
        #expect(date.part("date") == "2003-07-01")
        #expect(date.part("julian") == "52821")
        #expect(date.part("hour") == "10")
        #expect(date.part("minute") == "52")
        #expect(date.part("second") == "37")
        #expect(date.part("time") == "10:52:37")
        #expect(date.part("iso8601") == "2003-07-01T10:52:37+02:00")
        #expect(date.part("std11") == "Tue, 01 Jul 2003 10:52:37 +0200")
        #expect(date.part("zone") == "+0200")
        #expect(date.part("weekday") == "2")
        #expect(date.part("Year") == "2003")
        #expect(date.part("fortnight") == nil)
    }

    @Test("converting to another zone moves the parts (RFC 5260 :zone)")
    func conversion() throws {
        let date = try #require(SieveDateTime.parse("Tue, 1 Jul 2003 01:52:37 +0200"))
        let utc = date.converted(toZoneOffset: 0)
        #expect(utc.part("date") == "2003-06-30")
        #expect(utc.part("hour") == "23")
        #expect(utc.part("weekday") == "1")
        let pacific = date.converted(toZoneOffset: try #require(SieveDateTime.parseZone("-0800")))
        #expect(pacific.part("iso8601") == "2003-06-30T15:52:37-08:00")
        #expect(pacific.part("zone") == "-0800")
    }

    @Test("day of week and seconds are optional, comments and folding are ignored")
    func optionalParts() throws {
        let date = try #require(SieveDateTime.parse(" 21 Nov 1997 09:55 (comment (nested))\r\n\t-0600"))
        #expect(date.part("iso8601") == "1997-11-21T09:55:00-06:00")
        #expect(SieveDateTime.parse("Fri 21 Nov 1997 09:55:06 -0600")?.part("second") == "06")
    }

    @Test("two- and three-digit years follow RFC 5322 4.3")
    func obsoleteYears() {
        #expect(SieveDateTime.parse("1 Jan 49 00:00 +0000")?.part("year") == "2049")
        #expect(SieveDateTime.parse("1 Jan 50 00:00 +0000")?.part("year") == "1950")
        #expect(SieveDateTime.parse("1 Jan 103 00:00 +0000")?.part("year") == "2003")
    }

    @Test("obsolete zone names; military and unknown zones mean UTC, written +0000 (RFC 5260 section 4.2)")
    func obsoleteZones() {
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 EST")?.zoneOffset == -18_000)
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 PDT")?.part("zone") == "-0700")
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 GMT")?.part("zone") == "+0000")
        // RFC 5260 section 4.2: a zero offset is "Z" in iso8601 (Pigeonhole 0.5.19 agrees).
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 UT")?.part("iso8601") == "2020-01-01T12:00:00Z")
        let military = SieveDateTime.parse("1 Jan 2020 12:00 Q")
        #expect(military?.part("zone") == "+0000")
        #expect(military?.part("hour") == "12")
        // Verified with Pigeonhole 0.5.19: "-0000" gives zone "+0000" and iso8601 "...Z".
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 -0000")?.part("zone") == "+0000")
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 -0000")?.part("iso8601") == "2020-01-01T12:00:00Z")
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 +0130")?.part("iso8601") == "2020-01-01T12:00:00+01:30")
    }

    @Test("invalid dates are refused")
    func invalid() {
        #expect(SieveDateTime.parse("") == nil)
        #expect(SieveDateTime.parse("30 Feb 2020 12:00 +0000") == nil)
        #expect(SieveDateTime.parse("29 Feb 2021 12:00 +0000") == nil)
        #expect(SieveDateTime.parse("29 Feb 2020 12:00 +0000")?.part("date") == "2020-02-29")
        #expect(SieveDateTime.parse("1 Foo 2020 12:00 +0000") == nil)
        #expect(SieveDateTime.parse("1 Jan 2020 24:00 +0000") == nil)
        #expect(SieveDateTime.parse("1 Jan 2020 12:60 +0000") == nil)
        #expect(SieveDateTime.parse("1 Jan 2020 12:00") == nil)
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 +01") == nil)
        #expect(SieveDateTime.parse("1 Jan 2020 12:00 +0000 trailing") == nil)
        #expect(SieveDateTime.parse("yesterday") == nil)
    }

    @Test(":zone arguments are +hhmm or -hhmm")
    func zones() {
        #expect(SieveDateTime.parseZone("+0100") == 3600)
        #expect(SieveDateTime.parseZone("-0830") == -30_600)
        #expect(SieveDateTime.parseZone("+0000") == 0)
        #expect(SieveDateTime.parseZone("0100") == nil)
        #expect(SieveDateTime.parseZone("+01:00") == nil)
        #expect(SieveDateTime.parseZone("+0160") == nil)
        #expect(SieveDateTime.parseZone("+2400") == nil)
    }

    @Test("dates before 1970 and the Modified Julian Day")
    func beforeEpoch() {
        let date = SieveDateTime(date: Date(timeIntervalSince1970: -1), zoneOffset: 0)
        #expect(date.part("date") == "1969-12-31")
        #expect(date.part("time") == "23:59:59")
        #expect(date.part("julian") == "40586")
        #expect(date.part("weekday") == "3")
    }
}
