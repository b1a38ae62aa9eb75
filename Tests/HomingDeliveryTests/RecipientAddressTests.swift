import Testing

@testable import HomingDelivery

@Suite("Recipient address splitting")
struct RecipientAddressTests {
    @Test("a detail after the delimiter is split off the local part")
    func detailIsSplit() {
        let address = RecipientAddress("alice+lists@example.com", delimiters: "+")
        #expect(address.user == "alice@example.com")
        #expect(address.detail == "lists")
        #expect(address.username == "alice")
        #expect(address.domain == "example.com")
    }

    @Test("the first delimiter character splits; every character of the setting is a delimiter")
    func severalDelimiters() {
        let address = RecipientAddress("bob-x+y@example.com", delimiters: "+-")
        #expect(address.user == "bob@example.com")
        #expect(address.detail == "x+y")
    }

    @Test("case is kept as sent")
    func caseKept() {
        let address = RecipientAddress("Nosuch+Tag@Example.COM", delimiters: "+")
        #expect(address.user == "Nosuch@Example.COM")
    }

    @Test("no delimiter configured, or none present, leaves the address whole")
    func noSplit() {
        #expect(RecipientAddress("a+b@example.com", delimiters: "").user == "a+b@example.com")
        #expect(RecipientAddress("ab@example.com", delimiters: "+").detail == nil)
        #expect(RecipientAddress("postmaster", delimiters: "+").domain == "")
    }

    @Test("a local part starting with the delimiter is not split into an empty user")
    func emptyUserNotSplit() {
        let address = RecipientAddress("+tag@example.com", delimiters: "+")
        #expect(address.user == "+tag@example.com")
        #expect(address.detail == nil)
    }

    @Test("a delimiter in the domain is not a detail")
    func delimiterInDomain() {
        let address = RecipientAddress("alice@ex+ample.com", delimiters: "+")
        #expect(address.user == "alice@ex+ample.com")
        #expect(address.detail == nil)
    }

    @Test("path components that could escape the mail tree are refused, ordinary names are not")
    func pathComponentCheck() {
        #expect(PathComponentCheck.problem(in: "alice") == nil)
        #expect(PathComponentCheck.problem(in: "..alice") == nil)
        #expect(PathComponentCheck.problem(in: "..") == "'..' names a directory")
        #expect(PathComponentCheck.problem(in: ".") == "'.' names a directory")
        #expect(PathComponentCheck.problem(in: "../../etc") == "contains '/'")
        #expect(PathComponentCheck.problem(in: "a\u{0}b") == "contains a NUL byte")
        #expect(PathComponentCheck.problem(in: "a\u{7}b") == "contains a control character")
    }
}
