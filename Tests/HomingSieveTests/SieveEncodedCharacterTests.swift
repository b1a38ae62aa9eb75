import Testing

@testable import HomingSieve

private let here = SieveSourceLocation(line: 1, column: 1)

@Suite("Sieve encoded-character (RFC 5228 2.4.2.4)")
struct SieveEncodedCharacterTests {
    @Test("hex and unicode sequences are decoded, as in the RFC's examples")
    func decodes() throws {
        #expect(try SieveEncodedCharacter.decode("${hex:40}", at: here) == "@")
        #expect(try SieveEncodedCharacter.decode("${hex: 40 }", at: here) == "@")
        #expect(try SieveEncodedCharacter.decode("${HEX: 40}", at: here) == "@")
        #expect(try SieveEncodedCharacter.decode("${hex:4 0 41}", at: here) == "\u{04}\u{00}A")
        #expect(try SieveEncodedCharacter.decode("${unicode:40}", at: here) == "@")
        #expect(try SieveEncodedCharacter.decode("${ unicode:40}", at: here) == "${ unicode:40}")
        #expect(try SieveEncodedCharacter.decode("${UNICODE:0000000040}", at: here) == "@")
        #expect(try SieveEncodedCharacter.decode("${Unicode:263a 20 1F600}", at: here) == "\u{263A} \u{1F600}")
        #expect(try SieveEncodedCharacter.decode("${hex:C3}${hex:A9}t${hex:c3 a9}", at: here) == "été")
    }

    @Test("invalid sequences are left as they are")
    func invalidLeftAlone() throws {
        for text in ["${hex:}", "${hex:400}", "${hex:4g}", "${hex:40", "${unicode:}", "${foo:40}", "$", "${",
                     "${hex:40}}", "${unicode:40 x}"] {
            let expected = text == "${hex:40}}" ? "@}" : text
            #expect(try SieveEncodedCharacter.decode(text, at: here) == expected)
        }
    }

    @Test("surrogates, too large code points and non-UTF-8 octets are errors")
    func errors() {
        #expect(throws: SieveError.self) { try SieveEncodedCharacter.decode("${unicode:D800}", at: here) }
        #expect(throws: SieveError.self) { try SieveEncodedCharacter.decode("${unicode:110000}", at: here) }
        #expect(throws: SieveError.self) { try SieveEncodedCharacter.decode("${unicode:FFFFFFFFFFFF}", at: here) }
        #expect(throws: SieveError.self) { try SieveEncodedCharacter.decode("${hex:C3}", at: here) }
        do {
            _ = try SieveEncodedCharacter.decode("${unicode:D800}", at: SieveSourceLocation(line: 3, column: 7))
        } catch {
            #expect(error.kind == .invalidEncodedCharacter)
            #expect(
                error.descriptionWithColumn
                    == "line 3, column 7: error: encoded-character: invalid unicode character U+D800 in ${unicode:...} (allowed are 0-D7FF and E000-10FFFF).")
        }
    }

    @Test("compile decodes strings only when encoded-character is required")
    func compileDecodes() throws {
        let source = "require [\"encoded-character\", \"fileinto\"];\nfileinto \"${hex:49 4E}BOX\";"
        let compiled = try SieveCompiledScript.compile(source)
        #expect(compiled.script.commands[1].positional.first?.value == .string("INBOX"))
        let plain = try SieveCompiledScript.compile("require \"fileinto\";\nfileinto \"${hex:41}\";")
        #expect(plain.script.commands[1].positional.first?.value == .string("${hex:41}"))
    }

    @Test("decoded values are what the validator checks")
    func validatedAfterDecoding() {
        let source = "require [\"encoded-character\", \"date\"];\nif date \"date\" \"${hex:79}ear\" \"1\" { keep; }"
        #expect((try? SieveCompiledScript.compile(source)) != nil)
        do {
            _ = try SieveCompiledScript.compile("require \"encoded-character\";\nredirect \"a${unicode:DFFF}\";")
            Issue.record("compiled")
        } catch {
            #expect(error.location.line == 2)
            #expect(error.kind == .invalidEncodedCharacter)
        }
    }
}
