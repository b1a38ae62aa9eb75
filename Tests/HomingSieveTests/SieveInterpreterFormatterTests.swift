import Testing

@testable import HomingSieve

@Suite("SieveResultFormatter")
struct SieveInterpreterFormatterTests {
    @Test("actions and implicit keep print in the documented format")
    func full() {
        let result = SieveResult(
            actions: [
                .fileInto(mailbox: "Lists", flags: ["\\Seen"], create: true, copy: true),
                .redirect(address: "carol@example.org", copy: false),
                .vacation(SieveVacationRequest(reason: "Away.\nBack soon.\n", subject: "Out", period: 86_400)),
            ], implicitKeep: true, implicitKeepFlags: ["\\Seen"])
        let expected = """
            Performed actions:

             * store message in folder: Lists
                    + add flags: \\Seen
                    + create folder if it does not exist
                    + preserve implicit keep
             * redirect message to: carol@example.org
             * send vacation response
                    => period: 86400 seconds
                    => subject: Out
                    START MESSAGE
                    Away.
                    Back soon.
                    END MESSAGE

            Implicit keep:

             * store message in folder: INBOX
                    + add flags: \\Seen

            """
        #expect(SieveResultFormatter.format(result) == expected)
    }

    @Test("empty sections print (none)")
    func none() {
        let text = SieveResultFormatter.format(SieveResult(actions: [], implicitKeep: false))
        #expect(text == "Performed actions:\n\n  (none)\n\nImplicit keep:\n\n  (none)\n")
    }
}
