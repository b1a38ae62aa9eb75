import Testing

@testable import HomingUserdb

@Suite("UserdbFieldTemplate")
struct UserdbFieldTemplateTests {
    @Test("key=value pairs split on spaces and tabs; a key without = has an empty value")
    func parsing() throws {
        let template = try UserdbFieldTemplate.parse(
            "  uid=vmail\tnosieve home=/var/%d mail=maildir:~/M=x ")
        #expect(
            template.entries == [
                .init(name: "uid", template: "vmail"), .init(name: "nosieve", template: ""),
                .init(name: "home", template: "/var/%d"), .init(name: "mail", template: "maildir:~/M=x"),
            ])
        #expect(template.hasVariables)
        #expect(try UserdbFieldTemplate.parse("").isEmpty)
    }

    @Test("a pair without a name is rejected")
    func emptyName() {
        #expect(throws: UserdbFieldTemplate.ParseError.emptyName(token: "=5")) {
            try UserdbFieldTemplate.parse("uid=1 =5")
        }
    }

    @Test("path escaping keeps values inside one path component")
    func pathEscape() {
        #expect(UserdbVariables.pathEscape("example.com") == "example.com")
        #expect(UserdbVariables.pathEscape("..") == "%2E%2E")
        #expect(UserdbVariables.pathEscape(".") == "%2E")
        #expect(UserdbVariables.pathEscape("../../etc") == "..%2F..%2Fetc")
    }
}
