import Testing

@testable import HomingSieve

private func fields(_ pairs: [(String, String)]) -> [SieveHeaderField] {
    pairs.map { SieveHeaderField(name: $0.0, rawValue: $0.1) }
}

/// The vacation reply's `To:` as Pigeonhole 0.5.19 writes it (checked against its replies:
/// `To: Sender <sender@example.org>`, `To: "The Sender" <other@example.org>`, and the
/// `Sender:` field's name over From's).
@Suite("Vacation reply To: with the sender's display name")
struct SieveVacationReplyRecipientTests {
    private func to(_ recipient: String, _ pairs: [(String, String)]) -> String {
        SieveVacationReplyRecipient.field(for: recipient, headerFields: fields(pairs))
    }

    @Test("From's display name: one atom as is, several words quoted")
    func fromName() {
        #expect(to("sender@example.org", [("From", "Sender <sender@example.org>")]) == "Sender <sender@example.org>")
        #expect(to("other@example.org", [("From", "The Sender <other@example.org>")]) == "\"The Sender\" <other@example.org>")
        #expect(to("other@example.org", [("From", "\"The Sender\" <other@example.org>")]) == "\"The Sender\" <other@example.org>")
        #expect(to("j@example.org", [("From", "J. Smith <j@example.org>")]) == "\"J. Smith\" <j@example.org>")
    }

    @Test("Sender, then Resent-From, then From: the first that holds the address gives the name")
    func headerOrder() {
        let all = [
            ("From", "Sender <third@example.org>"), ("Resent-From", "Resent <third@example.org>"),
            ("Sender", "Real Sender <third@example.org>"),
        ]
        #expect(to("third@example.org", all) == "\"Real Sender\" <third@example.org>")
        #expect(to("third@example.org", Array(all.prefix(2))) == "Resent <third@example.org>")
        // A Sender field naming someone else is passed over.
        #expect(
            to("third@example.org", [("Sender", "List <list@example.net>"), ("From", "Third <third@example.org>")])
                == "Third <third@example.org>")
    }

    @Test("the address matches in any case and is written as the header has it; several addresses in From")
    func matching() {
        #expect(
            to("sender@example.org", [("From", "Other <other@example.org>, Sender <Sender@Example.ORG>")])
                == "Sender <Sender@Example.ORG>")
    }

    @Test("no header holds the address, or it has no name: the bare address in angle brackets")
    func noName() {
        #expect(to("sender@example.org", [("From", "Someone <someone@example.org>")]) == "<sender@example.org>")
        #expect(to("sender@example.org", [("From", "sender@example.org")]) == "<sender@example.org>")
        #expect(to("sender@example.org", [("From", "<sender@example.org>")]) == "<sender@example.org>")
        #expect(to("sender@example.org", []) == "<sender@example.org>")
    }

    @Test("an addr-spec with a comment takes the comment as the name; encoded words stay as they are; quotes and apostrophes are escaped")
    func nameForms() {
        #expect(to("s@example.org", [("From", "s@example.org (Sam Sender)")]) == "\"Sam Sender\" <s@example.org>")
        #expect(to("s@example.org", [("From", "=?utf-8?q?S=C3=A9bastien?= <s@example.org>")]) == "=?utf-8?q?S=C3=A9bastien?= <s@example.org>")
        #expect(to("p@example.org", [("From", "\"Pat O'Neil, \\\"PO\\\"\" <p@example.org>")]) == "\"Pat O\\'Neil, \\\"PO\\\"\" <p@example.org>")
        #expect(to("p@example.org", [("From", "O'Neil <p@example.org>")]) == "O'Neil <p@example.org>")
    }
}
