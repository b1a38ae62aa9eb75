import Testing

@testable import HomingSieve

@Suite("Comparators (RFC 4790)")
struct SieveComparatorTests {
    @Test("i;octet orders by UTF-8 octets and is case-sensitive")
    func octetOrdering() {
        #expect(SieveComparator.octet.compare("abc", "abd") < 0)
        #expect(SieveComparator.octet.compare("B", "a") < 0)
        #expect(SieveComparator.octet.compare("ab", "abc") < 0)
        #expect(SieveComparator.octet.equals("Abc", "abc") == false)
        #expect(SieveComparator.octet.equals("é", "é"))
    }

    @Test("i;ascii-casemap maps a-z to A-Z before comparing octets")
    func casemapOrdering() {
        #expect(SieveComparator.asciiCasemap.equals("HeLLo", "hello"))
        // '_' (0x5F) sorts after 'A'..'Z' once letters are upper-cased.
        #expect(SieveComparator.asciiCasemap.compare("_", "a") > 0)
        // Non-ASCII letters are not folded.
        #expect(SieveComparator.asciiCasemap.equals("É", "é") == false)
    }

    @Test("i;ascii-numeric compares leading digits; no digit is positive infinity")
    func numericOrdering() {
        let numeric = SieveComparator.asciiNumeric
        #expect(numeric.equals("007", "7"))
        #expect(numeric.equals("10abc", "10"))
        #expect(numeric.compare("9", "10") < 0)
        #expect(numeric.compare("123456789012345678901234567890", "99") > 0)
        #expect(numeric.compare("abc", "99999999999999999999") > 0)
        #expect(numeric.equals("abc", "xyz"))
        #expect(numeric.equals("", "abc"))
        #expect(numeric.equals("0", "000"))
    }

    @Test("i;ascii-numeric supports only equality and ordering match types")
    func numericSupport() {
        #expect(SieveComparator.asciiNumeric.supports(.is))
        #expect(SieveComparator.asciiNumeric.supports(.value(.gt)))
        #expect(SieveComparator.asciiNumeric.supports(.count(.eq)))
        #expect(SieveComparator.asciiNumeric.supports(.contains) == false)
        #expect(SieveComparator.asciiNumeric.supports(.matches) == false)
        #expect(SieveComparator.supports(.regex, comparator: .asciiNumeric) == false)
        #expect(SieveComparator.supports(.regex, comparator: .octet))
    }

    @Test("comparator names are case-insensitive")
    func names() {
        #expect(SieveComparator(name: "I;ASCII-CaseMap") == .asciiCasemap)
        #expect(SieveComparator(name: "i;unicode-casemap") == nil)
    }
}
