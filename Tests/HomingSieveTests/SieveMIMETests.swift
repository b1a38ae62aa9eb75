import Testing

@testable import HomingSieve

@Suite("MIME structure and the body transforms of RFC 5173")
struct SieveMIMETests {
    static let nested = """
        From: a@example.org
        Subject: mime
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        This is the prologue.
        --outer
        Content-Type: multipart/alternative; boundary=inner

        --inner
        Content-Type: text/plain; charset=ISO-8859-1
        Content-Transfer-Encoding: quoted-printable

        Caf=E9 =
        soft
        --inner
        Content-Type: text/html; charset=UTF-8
        Content-Transfer-Encoding: base64

        PGh0bWw+PGhlYWQ+PHRpdGxlPlQ8L3RpdGxlPjxzdHlsZT5we308L3N0eWxlPjwvaGVhZD48Ym9keT48cD5I
        ZWxsbyAmYW1wOyA8Yj5ieWU8L2I+PC9wPjxwPlNlY29uZCZuYnNwO2xpbmU8L3A+PC9ib2R5PjwvaHRtbD4=
        --inner--
        --outer
        Content-Type: message/rfc822

        From: inner@example.net
        Subject: enclosed

        Enclosed body.
        --outer
        Content-Type: application/octet-stream
        Content-Transfer-Encoding: base64

        AAEC
        --outer--
        The epilogue.

        """

    private static let html =
        "<html><head><title>T</title><style>p{}</style></head><body><p>Hello &amp; <b>bye</b></p><p>Second&nbsp;line</p></body></html>"

    @Test(":text gives the text parts decoded, HTML turned into text, enclosed messages included")
    func textTransform() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(try message.bodyTexts(.text) == ["Café soft", "Hello & bye\nSecond line", "Enclosed body."])
    }

    @Test(":content \"text/plain\" selects exactly that type")
    func contentExact() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(try message.bodyTexts(.content(["text/plain"])) == ["Café soft", "Enclosed body."])
        #expect(try message.bodyTexts(.content(["TEXT/HTML"])) == [Self.html])
        #expect(try message.bodyTexts(.content(["image/png"])) == [])
        #expect(try message.bodyTexts(.content(["text/"])) == [])
    }

    @Test(":content \"text\" selects every text part, HTML left as HTML")
    func contentType() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(try message.bodyTexts(.content(["text"])) == ["Café soft", Self.html, "Enclosed body."])
    }

    @Test(":content \"multipart\" gives only prologues and epilogues")
    func contentMultipart() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(try message.bodyTexts(.content(["multipart"])) == ["This is the prologue.", "The epilogue.\n"])
    }

    @Test(":content \"message/rfc822\" gives the header of the enclosed message")
    func contentMessage() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(
            try message.bodyTexts(.content(["message/rfc822"]))
                == ["From: inner@example.net\nSubject: enclosed\n\n"])
    }

    @Test(":content \"\" selects every entity; binary parts are transfer-decoded")
    func contentAll() throws {
        let message = SieveMessage(text: Self.nested)
        #expect(
            try message.bodyTexts(.content([""]))
                == [
                    "This is the prologue.", "The epilogue.\n", "Café soft", Self.html,
                    "From: inner@example.net\nSubject: enclosed\n\n", "Enclosed body.", "\u{0}\u{1}\u{2}",
                ])
        #expect(try message.bodyTexts(.content(["application/octet-stream", "text/plain"])).count == 3)
    }

    @Test(":raw is the body as written, MIME structure and all")
    func raw() throws {
        let message = SieveMessage(text: Self.nested)
        let raw = try message.bodyTexts(.raw)
        #expect(raw.count == 1)
        #expect(raw.first?.hasPrefix("This is the prologue.\n--outer\nContent-Type: multipart/alternative") == true)
        #expect(raw.first?.hasSuffix("--outer--\nThe epilogue.\n") == true)
    }

    @Test("a single-part message: base64 UTF-8 and quoted-printable KOI8-R bodies")
    func singlePart() throws {
        let utf8 = SieveMessage(
            text: "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: BASE64\n\nR3LDvMOfZSBh\ndXMgS8O2bG4=\n")
        #expect(try utf8.bodyTexts(.text) == ["Grüße aus Köln"])
        let koi = SieveMessage(
            text: "Content-Type: text/plain; charset=\"koi8-r\"\nContent-Transfer-Encoding: quoted-printable\n\n=F0=D2=C9=D7=C5=D4 =CD=C9=D2\n")
        #expect(try koi.bodyTexts(.text) == ["Привет мир\n"])
    }

    @Test("a message without Content-Type is text/plain; an unknown charset is read as UTF-8")
    func defaults() throws {
        #expect(try SieveMessage(text: "Subject: x\n\nplain body\n").bodyTexts(.content(["text/plain"])) == ["plain body\n"])
        let unknown = SieveMessage(text: "Content-Type: text/plain; charset=x-unknown-thing\n\nz\u{E9}\n")
        #expect(try unknown.bodyTexts(.text) == ["zé\n"])
        let broken = SieveMessage(text: "Content-Type: garbage\n\nbody")
        #expect(try broken.bodyTexts(.content(["text/plain"])) == ["body"])
    }

    @Test("non-text top-level parts are not in :text")
    func nonTextTop() throws {
        let message = SieveMessage(text: "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAEC\n")
        #expect(try message.bodyTexts(.text) == [])
        #expect(try message.bodyTexts(.content(["image"])) == ["\u{0}\u{1}\u{2}"])
    }

    @Test("a multipart without its close delimiter ends at the end of the data; CRLF line ends work")
    func missingCloseDelimiter() throws {
        let message = SieveMessage(
            text: "Content-Type: multipart/mixed; boundary=----=_Part_1\r\n\r\n------=_Part_1\r\n\r\nfirst\r\n------=_Part_1\r\nContent-Type: text/plain\r\n\r\nsecond\r\n")
        #expect(try message.bodyTexts(.text) == ["first", "second\r\n"])
    }

    @Test("multipart/digest parts default to message/rfc822")
    func digest() throws {
        let message = SieveMessage(
            text: "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst message\n--d--\n")
        #expect(try message.bodyTexts(.content(["message/rfc822"])) == ["Subject: one\n\n"])
        #expect(try message.bodyTexts(.text) == ["first message"])
    }

    @Test("nesting deeper than the limit is not split further, and does not crash")
    func deepNesting() throws {
        var text = ""
        for level in 0..<40 { text += "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n" }
        text += "Content-Type: text/plain\n\nleaf\n"
        let message = SieveMessage(text: text)
        #expect(try message.bodyTexts(.text) == [])
        let (body, root) = try message.mimeStructure()
        #expect(!body.isEmpty)
        #expect(root.contentType.mimeType == "multipart/mixed")
    }

    @Test("the delimiter must start the line and only white space may follow it")
    func delimiterRules() {
        let body = Array("pro\n--b \nA\n x--b\n--bc\n--b--\nepi".utf8)
        let split = SieveMIMEParser.splitMultipart(body[...], boundary: Array("b".utf8))
        #expect(split.prologue == 0..<3)
        #expect(split.parts == [9..<21])
        #expect(String(decoding: body[split.parts[0]], as: UTF8.self) == "A\n x--b\n--bc")
        #expect(String(decoding: body[split.epilogue], as: UTF8.self) == "epi")
    }

    @Test("a comment ending in a backslash at the end of Content-Type is no type, and no crash (fuzz-mime crash)")
    func backslashAtEndOfComment() throws {
        #expect(SieveMIMEContentType.parse("(\\") == nil)
        #expect(SieveMIMEContentType.parse("(comment \\\\\\") == nil)
        #expect(SieveMIMEContentType.parse("text/plain; charset=utf-8 (x\\")?.mimeType == "text/plain")
        let message = SieveMessage(text: "Content-Type: (\0\0t\\\\\\\\\\\n\nbody")
        #expect(try message.bodyTexts(.content(["text/plain"])) == ["body"])
    }
}
