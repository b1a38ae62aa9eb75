import Testing

@testable import HomingSieve

/// RFC 5435 section 6 `:encodeurl` through `set`, and the encoded-character extension
/// (RFC 5228 section 2.4.2.4) in action arguments.
@Suite("Conformance: :encodeurl and encoded-character")
struct ConformanceRFC5435Tests {
    @Test(":encodeurl percent-encodes everything but the unreserved characters, as UTF-8")
    func encodeurl() throws {
        let script = """
            require ["variables", "fileinto", "enotify"];
            set :encodeurl "e" "a b&c/d?e=f~g_h.i-j+é%";
            fileinto "${e}";
            """
        #expect(try runSieve(script) == filedInto("a%20b%26c%2Fd%3Fe%3Df~g_h.i-j%2B%C3%A9%25"))
    }

    @Test(":encodeurl applies after case modifiers and before :length")
    func precedence() throws {
        let script = """
            require ["variables", "fileinto", "enotify"];
            set :upper :encodeurl "a" "x y";
            set :encodeurl :length "b" "x y";
            fileinto "${a}-${b}";
            """
        #expect(try runSieve(script) == filedInto("X%20Y-5"))
    }

    @Test("RFC 5228 section 2.4.2.4: ${hex:} and ${unicode:} in a fileinto folder name")
    func encodedCharacter() throws {
        let script = """
            require ["encoded-character", "fileinto"];
            fileinto "${hex:49 4E 42 4F 58}.Caf${unicode:E9}";
            fileinto "${HEX: 40 }-${UnICoDE:0001F600}-$${hex:24}";
            """
        #expect(try runSieve(script) == filedInto("INBOX.Café", "@-😀-$$"))
    }

    @Test("without encoded-character the sequences are literal; invalid sequences stay as written")
    func literal() throws {
        #expect(try runSieve("require \"fileinto\";\nfileinto \"${hex:41}\";") == filedInto("${hex:41}"))
        let script = """
            require ["encoded-character", "fileinto"];
            fileinto "${hex:40";
            fileinto "${ unicode:40}";
            fileinto "${Unicode:Cool}";
            fileinto "${hex:4${hex:30}}";
            """
        #expect(try runSieve(script) == filedInto("${hex:40", "${ unicode:40}", "${Unicode:Cool}", "${hex:40}"))
    }

    @Test("encoded-character errors: a surrogate or a code point past U+10FFFF")
    func compileErrors() throws {
        let surrogate = try #require(
            scriptCompileError("require \"encoded-character\";\n\nfileinto \"${unicode:DF01}\";"))
        #expect(surrogate.location.line == 3)
        #expect(surrogate.kind == .invalidEncodedCharacter)
        let tooLarge = try #require(
            scriptCompileError("require [\"encoded-character\", \"reject\"];\nkeep;\nreject \"${unicode:200000}\";"))
        #expect(tooLarge.location.line == 3)
        #expect(tooLarge.kind == .invalidEncodedCharacter)
    }
}
