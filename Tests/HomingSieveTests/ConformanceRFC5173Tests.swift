import Testing

@testable import HomingSieve

/// RFC 5173 body: the transforms `:raw`, `:content` and `:text` on real MIME messages parsed
/// by `SieveMessage(text:)`.
@Suite("Conformance: RFC 5173 body")
struct ConformanceRFC5173Tests {
    /// multipart/mixed with a prologue and epilogue, a nested multipart/alternative (a
    /// quoted-printable ISO-8859-1 text/plain part and a base64 UTF-8 text/html part), a base64
    /// audio/mp3 part and an enclosed message/rfc822.
    static let mime = """
        From: Alice <alice@example.org>
        To: bob@example.com
        Subject: Plans
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        This is the prologue.
        --outer
        Content-Type: multipart/alternative; boundary=inner

        --inner
        Content-Type: text/plain; charset=ISO-8859-1
        Content-Transfer-Encoding: quoted-printable

        The missile coordinates are secret. Caf=E9 at noon, a very long line that=
         goes on.
        --inner
        Content-Type: text/html; charset="UTF-8"
        Content-Transfer-Encoding: base64

        PGh0bWw+PGJvZHk+PHA+UHJvamVjdCA8Yj5zY2hlZHVsZTwvYj4gJmFtcDsgYnVkZ2V0ICZlYWN1
        dGU7dCZlYWN1dGU7PC9wPjwvYm9keT48L2h0bWw+
        --inner--
        --outer
        Content-Type: audio/mp3
        Content-Transfer-Encoding: base64

        SUQz
        --outer
        Content-Type: message/rfc822

        From: carol@example.net
        Subject: forwarded note

        Inner body text.
        --outer--
        This is the epilogue.
        """

    private func body(_ test: String, _ message: String = mime) throws -> Bool {
        try holds(require: "\"body\"", "body " + test, realMessage: message)
    }

    @Test("RFC 5173 section 7 example: a text part mentioning missile files into secrets")
    func exampleSecrets() throws {
        let script = """
            require ["body", "fileinto"];
            # Save any message with any text MIME part that contains the
            # words "missile" or "coordinates" in the "secrets" folder.
            if body :content "text" :contains ["missile", "coordinates"] {
                    fileinto "secrets";
            }
            # Save any message with an audio/mp3 MIME part in
            # the "jukebox" folder.
            elsif body :content "audio/mp3" :contains "" {
                    fileinto "jukebox";
            }
            """
        #expect(try runSieve(script, realMessage: Self.mime) == filedInto("secrets"))
        let audioOnly = Self.mime.replacingOccurrences(of: "missile coordinates", with: "lunch plans")
        #expect(try runSieve(script, realMessage: audioOnly) == filedInto("jukebox"))
        let plain = "From: a@b.c\nSubject: x\n\nNothing to see.\n"
        #expect(try runSieve(script, realMessage: plain) == implicitKeepOnly)
    }

    @Test("RFC 5173 section 5.2: :text searches the decoded text parts, html turned into text")
    func textTransform() throws {
        #expect(try body(":text :contains \"Café at noon\""))
        #expect(try body(":text :contains \"that goes on\""))
        #expect(try body(":contains \"project schedule\""))
        #expect(try body(":text :contains \"budget été\""))
        #expect(try body(":text :contains \"Inner body text\""))
        #expect(try !body(":text :contains \"<b>\""))
        #expect(try !body(":text :contains \"Caf=E9\""))
        #expect(try !body(":text :contains \"prologue\""))
    }

    @Test(":content selects parts by type and subtype; html is not converted")
    func contentTransform() throws {
        #expect(try body(":content \"text/html\" :contains \"<b>schedule</b> &amp; budget\""))
        #expect(try !body(":content \"text/html\" :contains \"missile\""))
        #expect(try body(":content \"text/plain\" :contains \"missile\""))
        #expect(try !body(":content \"text/plain\" :contains \"schedule\""))
        #expect(try body(":content \"audio/mp3\" :is \"ID3\""))
        #expect(try body(":content \"AUDIO\" :is \"ID3\""))
        #expect(try !body(":content \"audio/mpeg\" :contains \"\""))
        #expect(try body(":content [\"image\", \"audio\"] :contains \"ID\""))
    }

    @Test(":content multipart gives prologue and epilogue only; message/rfc822 the enclosed header")
    func containerParts() throws {
        #expect(try body(":content \"multipart\" :contains \"This is the prologue\""))
        #expect(try body(":content \"multipart/mixed\" :contains \"This is the epilogue\""))
        #expect(try !body(":content \"multipart\" :contains \"missile\""))
        #expect(try body(":content \"message/rfc822\" :contains \"Subject: forwarded note\""))
        #expect(try !body(":content \"message/rfc822\" :contains \"Inner body text\""))
        #expect(try body(":content \"\" :contains \"Inner body text\""))
        #expect(try body(":content \"\" :contains \"ID3\""))
    }

    @Test(":raw matches the undecoded body with MIME boundaries and encodings")
    func rawTransform() throws {
        #expect(try body(":raw :contains \"Caf=E9 at noon\""))
        #expect(try body(":raw :contains \"--inner--\""))
        #expect(try body(":raw :contains \"SUQz\""))
        #expect(try !body(":raw :contains \"Café\""))
        #expect(try !body(":raw :contains \"Subject: Plans\""))
        #expect(try body(":raw :matches \"This is the prologue.*This is the epilogue.\""))
    }

    @Test("CRLF messages give the same answers")
    func crlfMessage() throws {
        let message = crlf(Self.mime)
        #expect(try body(":content \"text/plain\" :contains \"Café at noon\"", message))
        #expect(try body(":content \"audio/mp3\" :is \"ID3\"", message))
        #expect(try body(":text :contains \"project schedule\"", message))
        #expect(try body(":content \"multipart\" :is \"This is the epilogue.\"", message))
    }

    @Test("a message without MIME headers is one text/plain part; :text is the default")
    func plainMessage() throws {
        let message = "From: a@example.org\nSubject: hi\n\nMAKE MONEY FAST\nnow\n"
        #expect(try body(":contains \"money fast\"", message))
        #expect(try body(":text :contains \"MONEY\"", message))
        #expect(try !body(":comparator \"i;octet\" :contains \"money\"", message))
        #expect(try body(":raw :matches \"MAKE MONEY FAST?now?\"", message))
        #expect(try !body(":raw :matches \"MAKE MONEY FAST?now\"", message))
        #expect(try !body(":content \"image\" :contains \"\"", message))
    }

    @Test("nested multiparts several levels deep are searched")
    func nestedMultipart() throws {
        var message = "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n"
        for level in 1...5 {
            message += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=b\(level)\n\n"
        }
        message += "--b5\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        message += "R3LDvMOfZSBhdXMgS8O2bG4=\n"
        for level in stride(from: 5, through: 0, by: -1) { message += "--b\(level)--\n" }
        #expect(try body(":content \"text\" :is \"Grüße aus Köln\"", message))
        #expect(try body(":text :contains \"köln\"", message))
    }

    @Test("match variables from body :matches (RFC 5173 with RFC 5229)")
    func matchVariables() throws {
        let script = """
            require ["body", "variables", "fileinto"];
            if body :content "text/plain" :matches "The * coordinates*" { fileinto "secret-${1}"; }
            """
        #expect(try runSieve(script, realMessage: Self.mime) == filedInto("secret-missile"))
    }

    @Test("body errors: extension not required, two transforms, :content without a list")
    func compileErrors() {
        #expect(
            compileErrorText("if body :contains \"x\" { discard; }")
                == "line 1: error: unknown test 'body' (only available after require :body).")
        #expect(
            compileErrorText("require \"body\";\nif body :raw :text :contains \"x\" { discard; }")
                == "line 2: error: encountered duplicate body transform argument (:text) for the body test.")
        #expect(
            compileErrorText("require \"body\";\nif body :content :contains \"x\" { discard; }")
                == "line 2: error: the :content tag for the body test requires a string list as parameter, but a tag (:contains) was found."
        )
        #expect(
            compileErrorText("require \"body\";\n\nif body :contains { discard; }")
                == "line 3: error: the body test requires 1 positional argument(s), but 0 is/are specified.")
    }
}
