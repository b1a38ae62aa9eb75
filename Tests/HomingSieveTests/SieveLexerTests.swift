import Testing

@testable import HomingSieve

private func kinds(_ source: String) throws -> [SieveToken.Kind] {
    try SieveLexer.tokenize(source).map(\.kind)
}

private func lexError(_ source: String) -> SieveError? {
    do {
        _ = try SieveLexer.tokenize(source)
        return nil
    } catch {
        return error
    }
}

@Suite("Sieve lexer")
struct SieveLexerTests {
    @Test("identifiers and tags are lowercased and punctuation is tokenised")
    func identifiersTagsPunctuation() throws {
        #expect(
            try kinds("IF Header :IS [\"a\",\"b\"] (true) { keep; }")
                == [
                    .identifier("if"), .identifier("header"), .tag("is"), .leftBracket, .quotedString("a"),
                    .comma,
                    .quotedString("b"), .rightBracket, .leftParenthesis, .identifier("true"),
                    .rightParenthesis,
                    .leftBrace, .identifier("keep"), .semicolon, .rightBrace,
                ])
        #expect(try kinds("_a_1 :x_2") == [.identifier("_a_1"), .tag("x_2")])
    }

    @Test("every token carries its line and column")
    func positions() throws {
        let tokens = try SieveLexer.tokenize("require \"x\";\n  keep;\r\n\tstop;")
        #expect(
            tokens.map(\.location) == [
                SieveSourceLocation(line: 1, column: 1), SieveSourceLocation(line: 1, column: 9),
                SieveSourceLocation(line: 1, column: 12), SieveSourceLocation(line: 2, column: 3),
                SieveSourceLocation(line: 2, column: 7), SieveSourceLocation(line: 3, column: 2),
                SieveSourceLocation(line: 3, column: 6),
            ])
    }

    @Test("columns count Unicode scalars, not bytes")
    func unicodeColumns() throws {
        let tokens = try SieveLexer.tokenize("\"é€\" keep")
        #expect(tokens.map(\.kind) == [.quotedString("é€"), .identifier("keep")])
        #expect(tokens[1].location == SieveSourceLocation(line: 1, column: 6))
    }

    @Test("numbers apply the K, M and G quantifiers")
    func numbers() throws {
        #expect(
            try kinds("0 42 100K 2M 1G 3k") == [
                .number(0), .number(42), .number(102_400), .number(2_097_152), .number(1_073_741_824),
                .number(3072),
            ])
        #expect(try kinds("18446744073709551615") == [.number(UInt64.max)])
    }

    @Test("numbers that overflow are an error with their position")
    func numberOverflow() {
        #expect(
            lexError("keep\n 18446744073709551616")
                == SieveError(
                    .numberOverflow, at: SieveSourceLocation(line: 2, column: 2),
                    "number is too large (the maximum is 18446744073709551615)"))
        #expect(lexError("17179869184G")?.kind == .numberOverflow)
    }

    @Test("quoted string escapes")
    func quotedEscapesExact() throws {
        #expect(try kinds(#""a\"b\\c\d""#) == [.quotedString(#"a"b\cd"#)])
        #expect(try kinds("\"two\nlines\"") == [.quotedString("two\nlines")])
        #expect(try kinds("\"\"") == [.quotedString("")])
    }

    @Test("hash and bracket comments are skipped")
    func comments() throws {
        #expect(
            try kinds("# comment\nkeep; # trailing\n/* multi\n * line */ stop; /**/ discard;#eof") == [
                .identifier("keep"), .semicolon, .identifier("stop"), .semicolon, .identifier("discard"),
                .semicolon,
            ])
        let tokens = try SieveLexer.tokenize("/* a\nb */ keep")
        #expect(tokens[0].location == SieveSourceLocation(line: 2, column: 6))
        #expect(try kinds("/* ** / **/keep") == [.identifier("keep")])
    }

    @Test("text: strings keep their lines and remove dot-stuffing")
    func multiLine() throws {
        let source = "text:\r\nHello\r\n..dot\r\n.x\r\n\r\n.\r\n;"
        #expect(try kinds(source) == [.multiLineString("Hello\r\n.dot\r\nx\r\n\r\n"), .semicolon])
        #expect(
            try kinds("TEXT:  # comment\nline\n.\nkeep") == [
                .multiLineString("line\n"), .identifier("keep"),
            ])
        #expect(try kinds("text:\n.\n") == [.multiLineString("")])
        #expect(try kinds("text: \t\n a \n.") == [.multiLineString(" a \n")])
        #expect(
            try kinds("text:\n\"quoted\" # not a comment\n.\n") == [
                .multiLineString("\"quoted\" # not a comment\n")
            ])
    }

    @Test("a token after text: strings has the right line")
    func multiLineLines() throws {
        let tokens = try SieveLexer.tokenize("text:\na\nb\n.\nkeep")
        #expect(tokens[1].location == SieveSourceLocation(line: 5, column: 1))
    }

    @Test("the identifier text without a colon is an ordinary identifier")
    func textIdentifier() throws {
        #expect(try kinds("text :is") == [.identifier("text"), .tag("is")])
    }

    // Texts and lines verified with Pigeonhole 0.5.19: an unterminated string or comment is
    // reported at the end of the script, naming the line where it started.
    @Test("lexical errors carry line, column and Pigeonhole's message; unterminated ones at the end")
    func errors() {
        #expect(
            lexError("keep;\n  \"abc")
                == SieveError(
                    .unterminatedString, at: SieveSourceLocation(line: 2, column: 7),
                    "end of file before end of quoted string started at line 2"))
        #expect(
            lexError("\"abc\\")
                == SieveError(
                    .unterminatedString, at: SieveSourceLocation(line: 1, column: 6),
                    "end of file before end of quoted string started at line 1"))
        #expect(
            lexError("keep;\n\"abc\n\nkeep;\n\n")?.location.line == 6)
        #expect(
            lexError("keep; /* open\n")
                == SieveError(
                    .unterminatedComment, at: SieveSourceLocation(line: 2, column: 1),
                    "end of file before end of bracket comment ('/* ... */') started at line 1"))
        #expect(
            lexError("x\ntext:\nabc\n")
                == SieveError(
                    .unterminatedMultiLineString, at: SieveSourceLocation(line: 4, column: 1),
                    "end of file before end of multi-line string"))
        #expect(
            lexError("text:")
                == SieveError(
                    .unterminatedMultiLineString, at: SieveSourceLocation(line: 1, column: 6),
                    "end of file before end of multi-line string"))
        #expect(
            lexError("text: x\n.\n")
                == SieveError(
                    .unexpectedCharacter, at: SieveSourceLocation(line: 1, column: 7),
                    "unexpected character 'x' after 'text:' (expected a line break or a '#' comment)"))
        #expect(
            lexError("keep;\n @")
                == SieveError(
                    .unexpectedCharacter, at: SieveSourceLocation(line: 2, column: 2),
                    "unexpected character '@'"))
        #expect(
            lexError("keep / 2")
                == SieveError(
                    .unexpectedCharacter, at: SieveSourceLocation(line: 1, column: 6),
                    "unexpected character '/'"))
        #expect(
            lexError("a\u{01}")
                == SieveError(
                    .unexpectedCharacter, at: SieveSourceLocation(line: 1, column: 2),
                    "unexpected character 0x01"))
        #expect(
            lexError(": is")
                == SieveError(
                    .unexpectedCharacter, at: SieveSourceLocation(line: 1, column: 1),
                    "expected an identifier after ':' to form a tag"))
    }

    @Test("strings must be valid UTF-8, comments may hold any bytes")
    func utf8() throws {
        var bad = SieveLexer(bytes: Array("keep;\n  \"a".utf8) + [0xFF] + Array("\"".utf8))
        #expect(
            throws: SieveError(
                .invalidUTF8, at: SieveSourceLocation(line: 2, column: 3), "string is not valid UTF-8")
        ) { try bad.tokenize() }
        var badText = SieveLexer(bytes: Array("text:\n".utf8) + [0xC3] + Array("\n.\n".utf8))
        #expect(
            throws: SieveError(
                .invalidUTF8, at: SieveSourceLocation(line: 1, column: 1), "string is not valid UTF-8")
        ) { try badText.tokenize() }
        var comment = SieveLexer(bytes: Array("# ".utf8) + [0xFF, 0xFE] + Array("\nkeep".utf8))
        #expect(try comment.tokenize().map(\.kind) == [.identifier("keep")])
    }

    @Test("nextToken returns tokens one at a time and nil at the end")
    func incremental() throws {
        var lexer = SieveLexer(source: "keep ;")
        #expect(try lexer.nextToken()?.kind == .identifier("keep"))
        #expect(try lexer.nextToken()?.kind == .semicolon)
        #expect(try lexer.nextToken() == nil)
        #expect(try lexer.nextToken() == nil)
    }

    @Test("error descriptions use Pigeonhole's line prefix")
    func description() {
        #expect(lexError("\n\n@")?.description == "line 3: error: unexpected character '@'.")
    }
}
