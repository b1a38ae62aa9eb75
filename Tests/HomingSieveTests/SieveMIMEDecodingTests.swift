import Testing

@testable import HomingSieve

@Suite("Transfer encodings, charsets, content types and HTML text")
struct SieveMIMEDecodingTests {
    @Test("quoted-printable: escapes, soft breaks, trailing white space, broken escapes kept")
    func quotedPrintable() {
        let input = Array("a=3Db=3d \nsoft=\nbreak\t\nbad=G1 and =\r\nend=".utf8)
        #expect(String(decoding: SieveTransferDecoding.decodeQuotedPrintable(input[...]), as: UTF8.self) == "a=b=\nsoftbreak\nbad=G1 and end")
    }

    @Test("base64 in bodies skips line breaks and junk, stops at padding")
    func base64Lenient() {
        #expect(SieveTransferDecoding.decodeBase64Lenient(Array("aGVs\r\nbG8*=\nignored".utf8)) == Array("hello".utf8))
        #expect(SieveTransferDecoding.decodeBase64Lenient(Array("YQ".utf8)) == [0x61])
        #expect(SieveTransferDecoding.decode(Array("x y".utf8)[...], encoding: "8bit") == Array("x y".utf8))
        #expect(SieveTransferDecoding.decode(Array("x".utf8)[...], encoding: "x-uuencode") == Array("x".utf8))
    }

    @Test("charsets by IANA name and alias; unknown charsets are nil")
    func charsets() {
        #expect(SieveCharset.decode([0xE9], charset: "latin1") == "é")
        #expect(SieveCharset.decode([0x80], charset: "cp1252") == "€")
        #expect(SieveCharset.decode([0xA4], charset: "iso-8859-15") == "€")
        #expect(SieveCharset.decode([0xC1], charset: "windows-1251") == "Б")
        #expect(SieveCharset.decode([0x82, 0xA0], charset: "Shift_JIS") == "あ")
        #expect(SieveCharset.decode([0x61], charset: "no-such-charset") == nil)
        #expect(SieveCharset.decode([0x61, 0xFF, 0x62], charset: "utf-8") == "a\u{FFFD}b")
        #expect(SieveCharset.decodeOrUTF8([0x61], charset: "bogus") == "a")
    }

    @Test("invalid bytes in an iconv charset become U+FFFD and conversion goes on")
    func iconvInvalid() {
        // 0x82 alone is an incomplete Shift_JIS sequence.
        #expect(SieveCharset.decode([0x61, 0x82], charset: "Shift_JIS") == "a\u{FFFD}")
    }

    @Test("Content-Type: case, quoted and RFC 2231 parameters, comments")
    func contentType() {
        let type = SieveMIMEContentType.parse("Text/HTML (comment); Charset=\"UTF-8\"; name*0*=utf-8''na%C3%AF; name*1=ve.txt")
        #expect(type == SieveMIMEContentType(type: "text", subtype: "html", parameters: ["charset": "UTF-8", "name": "naïve.txt"]))
        #expect(SieveMIMEContentType.parse("multipart/mixed; boundary=----=_Part_1")?.parameters["boundary"] == "----=_Part_1")
        #expect(SieveMIMEContentType.parse("text") == nil)
        #expect(SieveMIMEContentType.parse("") == nil)
    }

    @Test("type selectors: empty, type only, type/subtype")
    func selectors() {
        let type = SieveMIMEContentType(type: "text", subtype: "plain")
        #expect(type.matches(""))
        #expect(type.matches("text"))
        #expect(type.matches("Text/Plain"))
        #expect(!type.matches("text/html"))
        #expect(!type.matches("tex"))
        #expect(!type.matches("/plain"))
    }

    @Test("HTML to text: tags, scripts, comments, entities and white space")
    func html() {
        let html = "<p>One<br>two</p><script>var x = '<p>';</script><!-- hidden --><div>A &lt;b&gt; &#233;&#xE9; &unknown; x</div> <td>c</td><td>d</td>"
        #expect(SieveHTMLText.extract(html) == "One\ntwo\nA <b> éé &unknown; x\nc d")
        #expect(SieveHTMLText.extract("a < b and c > d") == "a < b and c > d")
    }
}
