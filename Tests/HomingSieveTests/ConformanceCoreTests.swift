import Testing

@testable import HomingSieve

/// RFC 5228: control commands, core tests and the example scripts.
@Suite("Conformance: RFC 5228 core")
struct ConformanceCoreTests {
    @Test("an empty script keeps the message implicitly")
    func emptyScript() throws {
        #expect(try runSieve("") == implicitKeepOnly)
    }

    @Test("RFC 5228 section 9 example: Sender header files into filter")
    func section9Sender() throws {
        let message = "Sender: owner-ietf-mta-filters@imc.org\nFrom: x@y.org\nTo: me@example.com\n\nhi"
        #expect(try runSieve(Self.section9, message: message) == filedInto("filter"))
    }

    @Test("RFC 5228 section 9 example: mail from example.com is kept")
    func section9Keep() throws {
        let message = "From: someone@example.com\nTo: me@example.com\n\nhi"
        #expect(try runSieve(Self.section9, message: message) == SieveResult(actions: [.keep(flags: [])], implicitKeep: false))
    }

    @Test("RFC 5228 section 9 example: not addressed to me goes to spam")
    func section9Spam() throws {
        let message = "From: x@y.org\nTo: other@example.net\nSubject: hi\n\nhi"
        #expect(try runSieve(Self.section9, message: message) == filedInto("spam"))
    }

    @Test("RFC 5228 section 9 example: make money fast subject goes to spam")
    func section9Subject() throws {
        let message = "From: x@y.org\nTo: me@example.com.au\nSubject: How to make lots of money fast\n\nhi"
        #expect(try runSieve(Self.section9, message: message) == filedInto("spam"))
    }

    @Test("RFC 5228 section 9 example: anything else goes to personal")
    func section9Personal() throws {
        let message = "From: x@y.org\nTo: me@example.com.au\nSubject: lunch\n\nhi"
        #expect(try runSieve(Self.section9, message: message) == filedInto("personal"))
    }

    static let section9 = """
        require "fileinto";
        if header :is "Sender" "owner-ietf-mta-filters@imc.org"
                { fileinto "filter"; }  # move to "filter" mailbox
        elsif address :DOMAIN :is ["From", "To"] "example.com"
                { keep; }               # keep in "In" mailbox
        elsif anyof (NOT address :all :contains
                     ["To", "Cc", "Bcc"] "me@example.com",
                     header :matches "subject"
                     ["*make*money*fast*", "*university*dipl*mas*"])
                { fileinto "spam"; }   # move to "spam" mailbox
        else
                { fileinto "personal"; }
        """

    @Test("if/elsif/else runs exactly the first branch whose test holds")
    func ifChain() throws {
        let script = """
            require "fileinto";
            if false { fileinto "a"; } elsif true { fileinto "b"; } elsif true { fileinto "c"; } else { fileinto "d"; }
            if false { fileinto "e"; } else { fileinto "f"; }
            """
        #expect(try runSieve(script) == filedInto("b", "f"))
    }

    @Test("stop ends the script and the implicit keep still applies")
    func stop() throws {
        #expect(try runSieve("require \"fileinto\";\nif true { stop; }\nfileinto \"x\";") == implicitKeepOnly)
    }

    @Test("header :contains is case-insensitive by default and :comparator i;octet is not")
    func headerComparators() throws {
        #expect(try runSieve("if header :contains \"subject\" \"MEETING\" { discard; }").implicitKeep == false)
        #expect(
            try runSieve("if header :contains :comparator \"i;octet\" \"subject\" \"MEETING\" { discard; }").implicitKeep)
    }

    @Test("header :is compares the whole value; a missing header never matches")
    func headerIs() throws {
        #expect(try runSieve("if header :is \"Subject\" \"Meeting tomorrow\" { discard; }").implicitKeep == false)
        #expect(try runSieve("if header :is \"Subject\" \"Meeting\" { discard; }").implicitKeep)
        #expect(try runSieve("if header :contains \"X-Missing\" \"\" { discard; }").implicitKeep)
    }

    @Test("address parts :all, :localpart and :domain of every address in the headers")
    func addressParts() throws {
        #expect(try runSieve("if address :all :is \"to\" \"carol@example.net\" { discard; }").implicitKeep == false)
        #expect(try runSieve("if address :localpart :is \"from\" \"alice\" { discard; }").implicitKeep == false)
        #expect(try runSieve("if address :domain :is \"cc\" \"example.com\" { discard; }").implicitKeep == false)
        #expect(try runSieve("if address :domain :is \"from\" \"example.com\" { discard; }").implicitKeep)
    }

    @Test("exists needs every named header")
    func exists() throws {
        #expect(try runSieve("if exists [\"From\", \"subject\"] { discard; }").implicitKeep == false)
        #expect(try runSieve("if exists [\"From\", \"X-None\"] { discard; }").implicitKeep)
    }

    @Test("size :over and :under compare with the message size in octets")
    func size() throws {
        let message = "Subject: x\n\n" + String(repeating: "a", count: 100)
        #expect(try runSieve("if size :over 100 { discard; }", message: message).implicitKeep == false)
        #expect(try runSieve("if size :over 1K { discard; }", message: message).implicitKeep)
        #expect(try runSieve("if size :under 1K { discard; }", message: message).implicitKeep == false)
        #expect(try runSieve("if size :under 112 { discard; }", message: message).implicitKeep)
    }

    @Test("allof, anyof and not combine tests")
    func logic() throws {
        #expect(try runSieve("if allof (true, not false) { discard; }").implicitKeep == false)
        #expect(try runSieve("if allof (true, false) { discard; }").implicitKeep)
        #expect(try runSieve("if anyof (false, true) { discard; }").implicitKeep == false)
        #expect(try runSieve("if anyof (false, not true) { discard; }").implicitKeep)
    }

    @Test("envelope from, to and auth with address parts")
    func envelope() throws {
        let envelope = SieveEnvelope(from: "alice@example.org", to: "bob@example.com", authUser: "alice")
        func check(_ test: String) throws -> Bool {
            try !runSieve("require \"envelope\";\nif \(test) { discard; }", envelope: envelope).implicitKeep
        }
        #expect(try check("envelope :is \"from\" \"alice@example.org\""))
        #expect(try check("envelope :domain :is \"to\" \"EXAMPLE.com\""))
        #expect(try check("envelope :is \"auth\" \"alice\""))
        #expect(try !check("envelope :localpart :is \"to\" \"alice\""))
    }

    @Test("the null sender matches the empty string with :all")
    func nullSender() throws {
        let envelope = SieveEnvelope(from: "", to: "bob@example.com")
        let result = try runSieve("require \"envelope\";\nif envelope :all :is \"from\" \"\" { discard; }", envelope: envelope)
        #expect(result.implicitKeep == false)
    }

    @Test("RFC 5228 section 2.7.2 :matches wildcards and section 2.7.3 comparators")
    func matchesWildcards() throws {
        #expect(try runSieve("if header :matches \"subject\" \"M*ting ?omorrow\" { discard; }").implicitKeep == false)
        #expect(try runSieve("if header :matches \"subject\" \"Meeting\" { discard; }").implicitKeep)
    }
}
