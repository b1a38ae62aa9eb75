import Testing

@testable import HomingSieve

@Suite("SieveAddressList: RFC 5322 address lists")
struct SieveAddressListTests {
    private func entry(_ local: String?, _ domain: String?, _ raw: String) -> SieveAddressEntry {
        SieveAddressEntry(localPart: local, domain: domain, raw: raw)
    }

    @Test("an empty header gives no addresses")
    func empty() {
        #expect(SieveAddressList.parse("") == [])
        #expect(SieveAddressList.parse("   ") == [])
    }

    @Test("a plain addr-spec")
    func addrSpec() {
        #expect(SieveAddressList.parse("user@example.com") == [entry("user", "example.com", "user@example.com")])
    }

    @Test("name-addr with atoms, a quoted display name and encoded words")
    func nameAddr() {
        #expect(SieveAddressList.parse("John Doe <john@example.com>") == [entry("john", "example.com", "John Doe <john@example.com>")])
        #expect(
            SieveAddressList.parse("\"Doe, John\" <john@example.com>")
                == [entry("john", "example.com", "\"Doe, John\" <john@example.com>")])
        #expect(
            SieveAddressList.parse("=?UTF-8?Q?J=C3=B6rg?= <jorg@example.de>")
                == [entry("jorg", "example.de", "=?UTF-8?Q?J=C3=B6rg?= <jorg@example.de>")])
        #expect(SieveAddressList.parse("<bare@example.com>") == [entry("bare", "example.com", "<bare@example.com>")])
        #expect(SieveAddressList.parse("Mr. J. Doe <j@x.org>") == [entry("j", "x.org", "Mr. J. Doe <j@x.org>")])
    }

    @Test("several addresses separated by commas, empty entries skipped")
    func list() {
        #expect(
            SieveAddressList.parse("a@x.org, B <b@y.org>,, c@z.org,")
                == [entry("a", "x.org", "a@x.org"), entry("b", "y.org", "B <b@y.org>"), entry("c", "z.org", "c@z.org")])
    }

    @Test("groups give their members; an empty group gives nothing")
    func groups() {
        #expect(SieveAddressList.parse("undisclosed-recipients:;") == [])
        #expect(
            SieveAddressList.parse("Team: a@x.org, Bob <b@x.org>; c@y.org")
                == [entry("a", "x.org", "a@x.org"), entry("b", "x.org", "Bob <b@x.org>"), entry("c", "y.org", "c@y.org")])
        #expect(SieveAddressList.parse("Friends: f@x.org") == [entry("f", "x.org", "f@x.org")])
    }

    @Test("comments anywhere are skipped, nested ones too")
    func comments() {
        #expect(
            SieveAddressList.parse("(lead) user (the (nested) user) @ (at) example.com (work)")
                == [entry("user", "example.com", "user (the (nested) user) @ (at) example.com")])
        #expect(SieveAddressList.parse("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>")
            == [entry("pete", "silly.test", "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>")])
    }

    @Test("a quoted local part is returned unquoted")
    func quotedLocalPart() {
        #expect(SieveAddressList.parse("\"john doe\"@example.com") == [entry("john doe", "example.com", "\"john doe\"@example.com")])
        #expect(SieveAddressList.parse("<\"a\\\"b\"@example.com>") == [entry("a\"b", "example.com", "<\"a\\\"b\"@example.com>")])
    }

    @Test("obsolete route syntax: the route is dropped")
    func obsoleteRoute() {
        #expect(
            SieveAddressList.parse("<@relay1.org,@relay2.org:user@host.org>")
                == [entry("user", "host.org", "<@relay1.org,@relay2.org:user@host.org>")])
    }

    @Test("obsolete white space around dots and a domain literal")
    func obsoleteDots() {
        #expect(SieveAddressList.parse("first . last @ example . com") == [entry("first.last", "example.com", "first . last @ example . com")])
        #expect(SieveAddressList.parse("user@[192.0.2.1]") == [entry("user", "[192.0.2.1]", "user@[192.0.2.1]")])
    }

    @Test("a bare local part has no domain; the null address is empty")
    func bareAndNull() {
        #expect(SieveAddressList.parse("root") == [entry("root", nil, "root")])
        #expect(SieveAddressList.parse("<>") == [entry("", nil, "<>")])
        #expect(SieveAddressList.parse("root").first?.address == "root")
    }

    @Test("invalid entries are returned with their text and no local part")
    func invalid() {
        #expect(SieveAddressList.parse("Joe Bloggs") == [entry(nil, nil, "Joe Bloggs")])
        #expect(SieveAddressList.parse("a@") == [entry(nil, nil, "a@")])
        #expect(SieveAddressList.parse("a@b@c") == [entry(nil, nil, "a@b@c")])
        #expect(SieveAddressList.parse("Name <a@b") == [entry(nil, nil, "Name <a@b")])
        #expect(SieveAddressList.parse("\"unterminated@x") == [entry(nil, nil, "\"unterminated@x")])
        #expect(SieveAddressList.parse("a@x.org, junk junk, b@y.org").map(\.address) == ["a@x.org", "junk junk", "b@y.org"])
        #expect(SieveAddressList.parse("Joe Bloggs").first?.address == "Joe Bloggs")
    }

    @Test("non-ASCII (RFC 6532) addresses are accepted")
    func internationalized() {
        #expect(SieveAddressList.parse("jörg@bücher.de") == [entry("jörg", "bücher.de", "jörg@bücher.de")])
    }
}
