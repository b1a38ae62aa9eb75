import Testing

@testable import HomingSieve

/// `address` and `header` tests on messages parsed by `SieveMessage`: RFC 5322 groups,
/// comments, quoted local parts, encoded display names, and RFC 2047 encoded subjects.
@Suite("Conformance: address and header tests on real messages")
struct ConformanceRealMessageTests {
    static let addresses = """
        From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>
        To: Undisclosed recipients:;
        Cc: Friends: "Joe Q. Public" <john.q.public@example.com>, mary@x.test (Mary Smith),
         jdoe@one.test; Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>
        Reply-To: "Smith, John" <"john smith"@example.com>
        Sender: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg+sieve@example.de>
        Bcc:
        Subject: addresses

        body
        """

    private func address(_ test: String, message: String = addresses) throws -> Bool {
        try holds(
            require: "[\"subaddress\", \"relational\", \"comparator-i;ascii-numeric\"]", test, realMessage: message)
    }

    @Test("group members are addresses; an empty group gives none")
    func groups() throws {
        #expect(try address("address :all :is \"cc\" \"john.q.public@example.com\""))
        #expect(try address("address :all :is \"cc\" \"jdoe@one.test\""))
        #expect(try address("address :count \"eq\" :comparator \"i;ascii-numeric\" \"cc\" \"4\""))
        #expect(try address("address :count \"eq\" :comparator \"i;ascii-numeric\" \"to\" \"0\""))
        #expect(try !address("address :all :contains \"cc\" \"Friends\""))
    }

    @Test("comments are not part of the address; display names are not matched")
    func comments() throws {
        #expect(try address("address :all :is \"cc\" \"mary@x.test\""))
        #expect(try address("address :all :is \"cc\" \"pete@silly.test\""))
        #expect(try address("address :domain :is \"cc\" \"silly.test\""))
        #expect(try !address("address :all :contains \"cc\" \"Mary Smith\""))
        #expect(try !address("address :all :contains \"cc\" \"nice\""))
    }

    @Test("encoded display names do not disturb the address; parts and subaddress")
    func encodedNames() throws {
        #expect(try address("address :all :is \"from\" \"pirard@vm1.ulg.ac.be\""))
        #expect(try address("address :localpart :is :comparator \"i;octet\" \"from\" \"PIRARD\""))
        #expect(try address("address :domain :is \"from\" \"VM1.ULG.AC.BE\""))
        #expect(try address("address :user :is \"sender\" \"joerg\""))
        #expect(try address("address :detail :is \"sender\" \"sieve\""))
        #expect(try !address("address :all :contains \"sender\" \"Jörg\""))
        #expect(
            try holds(
                require: "\"variables\"", "header :contains \"sender\" \"Jörg Müller\"", realMessage: Self.addresses))
        #expect(
            try holds(
                require: "\"variables\"", "header :contains \"from\" \"André Pirard\"", realMessage: Self.addresses))
    }

    @Test("a quoted local part: :localpart without quotes, :all quoted only when it must be")
    func quotedLocalPart() throws {
        #expect(try address("address :localpart :is \"reply-to\" \"john smith\""))
        #expect(try address("address :all :is \"reply-to\" \"\\\"john smith\\\"@example.com\""))
        #expect(try !address("address :all :is \"reply-to\" \"john smith@example.com\""))
        let script =
            "require [\"variables\", \"fileinto\"];\nif address :all :matches \"reply-to\" \"*\" { fileinto \"${1}\"; }"
        #expect(try runSieve(script, realMessage: Self.addresses) == filedInto("\"john smith\"@example.com"))
        let escaped = "To: \"a\\\\b\\\"c\"@example.com, \"plain\"@example.com\n\nx"
        #expect(
            try runSieve(script.replacingOccurrences(of: "reply-to", with: "to"), realMessage: escaped)
                == filedInto("\"a\\\\b\\\"c\"@example.com"))
        #expect(try address("address :all :is \"to\" \"plain@example.com\"", message: escaped))
    }

    @Test("an empty address header gives no address and :all :is \"\" does not match")
    func emptyHeader() throws {
        #expect(try !address("address :all :matches \"bcc\" \"*\""))
        #expect(try address("exists \"bcc\""))
    }

    @Test("CRLF line ends and folding give the same addresses")
    func crlfAddresses() throws {
        #expect(try address("address :all :is \"cc\" \"jdoe@one.test\"", message: crlf(Self.addresses)))
        #expect(
            try address(
                "address :count \"eq\" :comparator \"i;ascii-numeric\" \"cc\" \"4\"", message: crlf(Self.addresses)))
    }

    static let subjects = """
        Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=
        X-B-Latin1: =?iso-8859-1?b?R3L832U=?=
        X-B-UTF8: =?UTF-8?B?w6lsw6h2ZQ==?=
        X-Adjacent: =?UTF-8?Q?a?= =?UTF-8?Q?b?=   =?UTF-8?Q?c?= d =?UTF-8?Q?e?=
        X-Folded: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
         =?UTF-8?Q?_aus_K=C3=B6ln?=
        X-Not-Encoded: =?UTF-8?Q?unterminated and "=?UTF-8?Q?x?=" plain
        X-Bad-Charset: =?x-unknown-charset?Q?abc?=

        body
        """

    private func header(_ test: String) throws -> Bool {
        try holds(require: "\"variables\"", test, realMessage: Self.subjects)
    }

    @Test("RFC 2047 Q and B encoded words in ISO-8859-1 and UTF-8 are decoded for header tests")
    func encodedWords() throws {
        #expect(try header("header :is \"subject\" \"Café crème\""))
        #expect(try header("header :is \"x-b-latin1\" \"Grüße\""))
        #expect(try header("header :is \"x-b-utf8\" \"élève\""))
        #expect(try header("header :contains \"subject\" \"CAFé\""))
        #expect(try !header("header :contains \"subject\" \"=E9\""))
    }

    @Test("white space between adjacent encoded words is dropped; folded encoded words join")
    func adjacentWords() throws {
        #expect(try header("header :is \"x-adjacent\" \"abc d e\""))
        #expect(try header("header :is \"x-folded\" \"Grüße aus Köln\""))
    }

    @Test("text that is not a valid encoded word stays as written")
    func notEncoded() throws {
        #expect(try header("header :contains \"x-not-encoded\" \"=?UTF-8?Q?unterminated\""))
        #expect(try header("header :contains \"x-bad-charset\" \"abc\""))
    }

    @Test(":matches on a decoded subject sets the match variables in UTF-8")
    func matchVariables() throws {
        let script = """
            require ["variables", "fileinto"];
            if header :matches "subject" "Caf? *" { fileinto "${1}-${2}"; }
            """
        #expect(try runSieve(script, realMessage: Self.subjects) == filedInto("é-crème"))
    }
}
