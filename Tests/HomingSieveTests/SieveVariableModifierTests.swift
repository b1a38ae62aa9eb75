import Testing

@testable import HomingSieve

@Suite("set modifiers (RFC 5229 section 4.1)")
struct SieveVariableModifierTests {
    @Test("RFC 5229 4.1 examples")
    func rfcExamples() {
        let a = "juMBlEd lEttERS"
        #expect(SieveVariableModifier.apply([], to: a) == "juMBlEd lEttERS")
        #expect(SieveVariableModifier.apply(["length"], to: a) == "15")
        #expect(SieveVariableModifier.apply(["lower"], to: a) == "jumbled letters")
        #expect(SieveVariableModifier.apply(["upperfirst"], to: a) == "JuMBlEd lEttERS")
        #expect(SieveVariableModifier.apply(["upperfirst", "lower"], to: a) == "Jumbled letters")
        #expect(SieveVariableModifier.apply(["quotewildcard"], to: "Rock*") == "Rock\\*")
    }

    @Test("modifiers apply by precedence whatever order they are written in")
    func order() {
        #expect(SieveVariableModifier.apply([":length", ":quotewildcard"], to: "a*b") == "4")
        #expect(SieveVariableModifier.apply(["lowerfirst", "upper"], to: "hello") == "hELLO")
        #expect(SieveVariableModifier.apply(["encodeurl", "upper"], to: "a b") == "A%20B")
        #expect(SieveVariableModifier.apply(["length", "encodeurl"], to: "a b") == "5")
    }

    @Test("each modifier's own transformation")
    func transformations() {
        #expect(SieveVariableModifier.apply(["upper"], to: "straße") == "STRAßE")
        #expect(SieveVariableModifier.apply(["lowerfirst"], to: "ABC") == "aBC")
        #expect(SieveVariableModifier.apply(["quotewildcard"], to: "a?b\\c*") == "a\\?b\\\\c\\*")
        #expect(SieveVariableModifier.apply(["quoteregex"], to: "a.b*(c)|[d]{2}+?^$\\") == "a\\.b\\*\\(c\\)\\|\\[d\\]\\{2\\}\\+\\?\\^\\$\\\\")
        #expect(SieveVariableModifier.apply(["encodeurl"], to: "x=1&y=é~_.-") == "x%3D1%26y%3D%C3%A9~_.-")
        #expect(SieveVariableModifier.apply(["length"], to: "café") == "4")
        #expect(SieveVariableModifier.apply(["length"], to: "") == "0")
        #expect(SieveVariableModifier.apply(["upperfirst"], to: "") == "")
    }

    @Test("two modifiers of the same precedence are an error")
    func validation() {
        #expect(SieveVariableModifier.validate(["lower", "upperfirst", "length"]) == nil)
        #expect(
            SieveVariableModifier.validate(["lower", "upper"])
                == "the modifiers :lower and :upper cannot be combined (they have the same precedence)")
        #expect(
            SieveVariableModifier.validate([":quotewildcard", ":quoteregex"])
                == "the modifiers :quotewildcard and :quoteregex cannot be combined (they have the same precedence)")
        #expect(SieveVariableModifier.validate(["length", "length"]) == "the :length modifier is specified more than once")
        #expect(SieveVariableModifier.validate(["shout"]) == "unknown modifier ':shout' for the set command")
    }
}
