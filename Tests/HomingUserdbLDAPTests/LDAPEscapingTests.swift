import Testing

@testable import HomingUserdbLDAP

@Suite("LDAP escaping")
struct LDAPEscapingTests {
    @Test("Filter values have *, (, ), backslash and NUL written as RFC 4515 hex escapes")
    func filterEscapes() {
        #expect(LDAPEscaping.filterValue("*)(uid=*))(|(uid=*@example.com")
            == "\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a@example.com")
        #expect(LDAPEscaping.filterValue("a\\b\0c") == "a\\5cb\\00c")
        #expect(LDAPEscaping.filterValue("alice@example.com") == "alice@example.com")
        #expect(LDAPEscaping.filterValue("jürgen@exämple.de") == "jürgen@exämple.de")
    }

    @Test("DN values have RFC 4514 specials escaped, and leading/trailing spaces and a leading #")
    func dnEscapes() {
        #expect(LDAPEscaping.dnValue("example.com") == "example.com")
        #expect(LDAPEscaping.dnValue("a,ou=x+y") == "a\\,ou\\=x\\+y")
        #expect(LDAPEscaping.dnValue("\"<>;\\") == "\\\"\\<\\>\\;\\\\")
        #expect(LDAPEscaping.dnValue(" #a ") == "\\ #a\\ ")
        #expect(LDAPEscaping.dnValue("#a") == "\\#a")
        #expect(LDAPEscaping.dnValue("a\0b") == "a\\00b")
    }
}
