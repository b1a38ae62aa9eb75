import Testing

@testable import HomingSieve

@Suite("SieveHeaderDecoder: RFC 2047 encoded words")
struct SieveHeaderDecoderTests {
    @Test("plain text is returned unchanged")
    func plain() {
        #expect(SieveHeaderDecoder.decode("Hello world") == "Hello world")
        #expect(SieveHeaderDecoder.decode("") == "")
    }

    @Test("a B-encoded UTF-8 word is decoded")
    func base64Word() {
        #expect(SieveHeaderDecoder.decode("=?UTF-8?B?SMOpbGxv?=") == "Héllo")
        #expect(SieveHeaderDecoder.decode("=?utf-8?b?SMOpbGxv?=") == "Héllo")
    }

    @Test("a Q-encoded ISO-8859-1 word is decoded with underscores as spaces")
    func qWord() {
        #expect(SieveHeaderDecoder.decode("=?ISO-8859-1?Q?Caf=E9_cr=e8me?=") == "Café crème")
    }

    @Test("white space between adjacent encoded words is dropped, around text it is kept")
    func adjacentWords() {
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab")
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a?=  \t =?UTF-8?Q?b?=") == "ab")
        #expect(SieveHeaderDecoder.decode("Re: =?UTF-8?Q?caf=C3=A9?= now") == "Re: café now")
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a?= x =?UTF-8?Q?b?=") == "a x b")
    }

    @Test("a UTF-8 character split across two words is joined before conversion")
    func splitCharacter() {
        // "é" is C3 A9: the first word ends with C3, the second starts with A9.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=") == "café")
    }

    @Test("words in different charsets are each converted")
    func mixedCharsets() {
        #expect(SieveHeaderDecoder.decode("=?ISO-8859-1?Q?=E9?= =?UTF-8?B?w6k=?=") == "éé")
    }

    @Test("other charsets: ISO-8859-15, Windows-1252, KOI8-R, ISO-8859-2")
    func charsets() {
        #expect(SieveHeaderDecoder.decode("=?ISO-8859-15?Q?=A4?=") == "€")
        #expect(SieveHeaderDecoder.decode("=?windows-1252?Q?=80_=93x=94?=") == "€ “x”")
        #expect(SieveHeaderDecoder.decode("=?KOI8-R?B?8NLJ18XU?=") == "Привет")
        #expect(SieveHeaderDecoder.decode("=?ISO-8859-2?Q?=B1?=") == "ą")
        #expect(SieveHeaderDecoder.decode("=?us-ascii?Q?plain?=") == "plain")
    }

    @Test("an RFC 2231 language suffix on the charset is ignored")
    func languageSuffix() {
        #expect(SieveHeaderDecoder.decode("=?UTF-8*en?Q?hello?=") == "hello")
    }

    @Test("broken words are left as written")
    func brokenWords() {
        // Unknown charset.
        #expect(SieveHeaderDecoder.decode("=?X-NO-SUCH-CHARSET?Q?abc?=") == "=?X-NO-SUCH-CHARSET?Q?abc?=")
        // Unknown encoding letter.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?X?abc?=") == "=?UTF-8?X?abc?=")
        // Not terminated.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?abc") == "=?UTF-8?Q?abc")
        // Invalid base64.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?B?a!b?=") == "=?UTF-8?B?a!b?=")
        // Bad Q escape.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a=G1?=") == "=?UTF-8?Q?a=G1?=")
        // Space inside the encoded text.
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a b?=") == "=?UTF-8?Q?a b?=")
        // Empty charset.
        #expect(SieveHeaderDecoder.decode("=??Q?a?=") == "=??Q?a?=")
    }

    @Test("a broken word next to a good one: only the good one is decoded")
    func brokenNextToGood() {
        #expect(SieveHeaderDecoder.decode("=?BAD-CS?Q?x?= =?UTF-8?Q?ok?=") == "=?BAD-CS?Q?x?= ok")
    }

    @Test("invalid UTF-8 inside a word becomes U+FFFD")
    func invalidBytes() {
        #expect(SieveHeaderDecoder.decode("=?UTF-8?Q?a=FFb?=") == "a\u{FFFD}b")
    }

    @Test("encoded words inside other text are decoded as Dovecot does")
    func embedded() {
        #expect(SieveHeaderDecoder.decode("abc=?UTF-8?Q?d?=e") == "abcde")
    }

    @Test("base64 without padding is accepted, with wrong padding refused")
    func base64Padding() {
        #expect(SieveHeaderDecoder.decode("=?UTF-8?B?YWI?=") == "ab")
        #expect(SieveHeaderDecoder.decode("=?UTF-8?B?YWI===?=") == "=?UTF-8?B?YWI===?=")
    }
}
