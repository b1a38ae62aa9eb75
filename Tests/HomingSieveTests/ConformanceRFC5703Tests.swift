import Testing

@testable import HomingSieve

/// RFC 5703 mime, foreverypart and extracttext: the RFC's examples, results compared with
/// Pigeonhole 0.5.19's `sieve-test` on the same message, Pigeonhole's compile errors, and
/// hostile structures. (`replace` and `enclose`, sections 5 and 6, are not implemented by
/// Pigeonhole either.)
@Suite("Conformance: RFC 5703 mime, foreverypart, extracttext")
struct ConformanceRFC5703Tests {
    static let message = """
        From: Tim <tim@example.com>
        To: b@example.com
        Subject: parts
        Content-Type: multipart/mixed; boundary="AA"
        X-Test: top

        preamble
        --AA
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable
        X-Test: one

        Caf=C3=A9 text here
        --AA
        Content-Type: text/html; charset=us-ascii
        X-Test: two

        <html><body><p>Hello <b>HTML</b></p></body></html>
        --AA
        Content-Type: application/pdf; name="important-report.pdf"
        Content-Disposition: attachment; filename*=utf-8''important%20report.pdf
        Content-From: tim@example.com
        Content-MD5: abc

        JVBERi0xLjQK
        --AA--
        epilogue

        """

    private func folders(_ script: String, message: String = message) throws -> [String] {
        try runSieve(script, realMessage: message).actions.compactMap {
            if case .fileInto(let mailbox, _, _, _) = $0 { return mailbox }
            return nil
        }
    }

    // MARK: - The RFC's examples

    @Test("RFC 5703 section 4.2 examples: :type, :anychild :contenttype, :param, address and exists with :mime")
    func section4Examples() throws {
        let script = """
            require ["mime", "foreverypart", "fileinto"];
            if header :mime :type "Content-Type" "image"
            {
                fileinto "INBOX.images";
            }
            if header :mime :anychild :contenttype
                        "Content-Type" "text/html"
            {
                fileinto "INBOX.html";
            }
            foreverypart
            {
                if allof (
                    header :mime :param "filename" :contains
                    "Content-Disposition" "important",
                    header :mime :subtype "Content-Type" "pdf",
                    size :over 100)
                {
                    fileinto "INBOX.important";
                    break;
                }
            }
            if address :mime :is :all "content-from" "tim@example.com"
            {
                fileinto "INBOX.part-from-tim";
            }
            if exists :mime :anychild "content-md5"
            {
                fileinto "INBOX.md5";
            }
            """
        // Outside a loop, address :mime looks at the message's own header (which has no
        // Content-From); Pigeonhole refuses Content-From in address (not an address field).
        #expect(try folders(script) == ["INBOX.html", "INBOX.important", "INBOX.md5"])
    }

    @Test("RFC 5703 section 7 example: extracttext needs foreverypart required, as Pigeonhole says")
    func extracttextExample() throws {
        let asWritten = """
            require ["mime", "variables", "extracttext"];
            if header :contains "from" "boss@example.org"
            {
              # :matches is used to get the value of the Subject header
              if header :matches "Subject" "*"
              {
                set "subject" "${1}";
              }

              # extract the first 100 characters of the first text/* part
              foreverypart
              {
                if header :mime :type :is "Content-Type" "text"
                {
                  extracttext :first 100 "msgcontent";
                  break;
                }
              }
            }
            """
        // The RFC's example does not require foreverypart; Pigeonhole 0.5.19 refuses it so.
        #expect(
            compileErrorText(asWritten)
                == "line 1: error: extracttext extension cannot be used without foreverypart extension.")
        let fixed = asWritten.replacingOccurrences(
            of: "[\"mime\", \"variables\", \"extracttext\"]",
            with: "[\"mime\", \"variables\", \"extracttext\", \"foreverypart\", \"fileinto\"]")
            .replacingOccurrences(of: "break;", with: "fileinto \"${subject}: ${msgcontent}\"; break;")
        let boss = Self.message.replacingOccurrences(of: "From: Tim <tim@example.com>", with: "From: boss@example.org")
        #expect(try folders(fixed, message: boss) == ["parts: Café text here"])
    }

    // MARK: - Compared with Pigeonhole

    @Test("foreverypart visits the message first, then every part depth first (as Pigeonhole)")
    func iterationOrder() throws {
        let script = """
            require ["mime","foreverypart","fileinto","variables"];
            set "n" "";
            foreverypart { if header :mime :matches "X-Test" "*" { set "n" "${n}[${1}]"; } }
            fileinto "${n}";
            """
        #expect(try folders(script) == ["[top][one][two]"])
        let anyChild = """
            require ["mime","foreverypart","fileinto","variables"];
            foreverypart { if header :mime :anychild :matches "X-Test" "*" { fileinto "any-${1}"; } if header "X-Test" "top" { fileinto "top"; } }
            """
        #expect(try folders(anyChild) == ["any-top", "top", "any-one", "any-two"])
    }

    @Test("nested loops iterate the parts inside the outer loop's part; break :name leaves the outer one")
    func nestedLoops() throws {
        let nested = """
            require ["mime","foreverypart","fileinto","variables"];
            set "log" "";
            foreverypart {
              if header :mime :matches "X-Test" "*" { set "outer" "${1}"; } else { set "outer" "-"; }
              foreverypart { if header :mime :matches "X-Test" "*" { set "log" "${log}${outer}>${1} "; } }
            }
            fileinto "${log}";
            """
        #expect(try folders(nested) == ["top>one top>two "])
        let named = """
            require ["mime","foreverypart","fileinto","variables"];
            foreverypart :name "outer" { foreverypart { if header :mime :contenttype "Content-Type" "text/html" { fileinto "html"; break :name "outer"; } } fileinto "after"; }
            """
        #expect(try folders(named) == ["html"])
        let stop = """
            require ["mime","foreverypart","fileinto"];
            foreverypart { if header :mime :is :type "content-type" "text" { fileinto "t"; stop; } }
            fileinto "after";
            """
        #expect(try folders(stop) == ["t"])
    }

    @Test("extracttext: decoded text, HTML as text, a multipart is empty, :first counts characters")
    func extractText() throws {
        let script = """
            require ["mime","foreverypart","fileinto","variables","extracttext"];
            foreverypart {
              if header :mime :subtype "Content-Type" "plain" { extracttext :first 4 "t"; fileinto "${t}"; }
              if header :mime :subtype "content-type" "html" { extracttext "h"; fileinto "h:${h}"; }
              if header :mime :type "content-type" "multipart" { extracttext "m"; fileinto "m:${m}"; }
              if header :mime :subtype "content-type" "pdf" { extracttext :upper "p"; fileinto "p:${p}"; break; }
            }
            """
        // Pigeonhole gives the same but for :first 4, which it counts in octets and so cuts
        // "é" in half (RFC 5703 section 7 counts characters), and a trailing space after HTML.
        #expect(try folders(script) == ["m:", "Café", "h:Hello HTML", "p:JVBERI0XLJQK"])
    }

    @Test(":mime options read Content-Type and Content-Disposition; other fields give the empty string")
    func mimeOptions() throws {
        let script = """
            require ["mime","fileinto"];
            if header :mime :type "Content-Type" "multipart" { fileinto "a"; }
            if header :mime :type "Content-Type" "text" { fileinto "b"; }
            if header :mime :subtype "content-type" "mixed" { fileinto "c"; }
            if header :mime :param "boundary" "Content-Type" "AA" { fileinto "d"; }
            if header :mime :anychild :param "filename" :contains "Content-Disposition" "important report" { fileinto "e"; }
            if header :mime :anychild :type "Content-Disposition" "attachment" { fileinto "f"; }
            if header :mime :type "X-Test" "" { fileinto "g"; }
            if exists :mime "content-md5" { fileinto "h"; }
            if header :mime :anychild :param ["name", "charset"] "Content-Type" "important-report.pdf" { fileinto "i"; }
            """
        #expect(try folders(script) == ["a", "c", "d", "e", "f", "g", "i"])
    }

    // MARK: - Errors (Pigeonhole 0.5.19's texts)

    @Test("mime errors: options without :mime, exclusive options, break and extracttext outside loops, nesting")
    func errors() {
        let cases: [(String, String)] = [
            (
                "require [\"mime\",\"fileinto\"];\nif header :type \"Content-Type\" \"text\" { keep; }",
                "line 2: error: the :type tag for the header test cannot be specified without the :mime tag."
            ),
            (
                "require [\"mime\",\"fileinto\"];\nif header :mime :type :subtype \"Content-Type\" \"text\" { keep; }",
                "line 2: error: the :type, :subtype, :contenttype, and :param arguments for the header test are mutually exclusive, but more than one was specified."
            ),
            (
                "require [\"mime\"];\nif address :mime :type \"from\" \"text\" { keep; }",
                "line 2: error: unknown tagged argument ':type' for the address test (reported only once at first occurrence)."
            ),
            (
                "require [\"mime\",\"foreverypart\"];\nbreak;",
                "line 2: error: the break command is not placed inside a foreverypart loop."
            ),
            (
                "require [\"mime\",\"foreverypart\"];\nforeverypart :name \"x\" { break :name \"y\"; }",
                "line 2: error: the break command is not placed inside a foreverypart loop named `y'."
            ),
            (
                "require [\"mime\",\"variables\",\"extracttext\"];\nextracttext \"x\";",
                "line 1: error: extracttext extension cannot be used without foreverypart extension."
            ),
            (
                "require [\"mime\",\"foreverypart\",\"extracttext\"];\nforeverypart { extracttext \"x\"; }",
                "line 1: error: extracttext extension cannot be used without variables extension."
            ),
            (
                "require [\"foreverypart\",\"variables\",\"extracttext\"];\nextracttext \"x\";",
                "line 2: error: the extracttext command is not placed inside a foreverypart loop."
            ),
            (
                "require [\"mime\",\"foreverypart\"];\nforeverypart { foreverypart { foreverypart { foreverypart { foreverypart { keep; } } } } }",
                "line 2: error: the nested foreverypart loop exceeds the nesting limit (<= 4 levels)."
            ),
            (
                "if header :mime \"x\" \"y\" { keep; }",
                "line 1: error: unknown tagged argument ':mime' for the header test (only available after require :mime)."
            ),
        ]
        for (source, expected) in cases {
            #expect(compileErrorText(source) == expected, "\(source)")
        }
        #expect(
            compileErrorText(
                "require [\"mime\",\"foreverypart\"];\nforeverypart { foreverypart { foreverypart { foreverypart { keep; } } } }")
                == nil)
    }

    // MARK: - Hostile input

    @Test("a deeply nested message and many parts stay bounded")
    func hostileStructure() throws {
        var nested = "Content-Type: text/plain\n\ninnermost\n"
        for level in 0..<60 {
            nested = "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n\(nested)--b\(level)--\n"
        }
        let message = "Subject: deep\n" + nested
        let script = """
            require ["mime","foreverypart","fileinto","variables"];
            set "count" "";
            foreverypart { set "count" "${count}x"; }
            set :length "n" "${count}";
            fileinto "${n}";
            """
        // Parts below SieveMIMEParser.maxDepth levels are not split any further.
        let count = try folders(script, message: message).first.flatMap { Int($0) }
        #expect(count == SieveMIMEParser.maxDepth + 1)
        let many = "Content-Type: multipart/mixed; boundary=z\n\n"
            + String(repeating: "--z\nContent-Type: text/plain\n\nx\n", count: 2000) + "--z--\n"
        #expect(try folders(script, message: "Subject: many\n" + many).first == "2001")
    }
}
