import Testing
@testable import HomingMaildir

@Suite("modified UTF-7")
struct ModifiedUTF7Tests {
    @Test("ASCII stays, & is escaped, other runs become base64 of UTF-16", arguments: [
        ("INBOX", "INBOX"),
        ("a b~c", "a b~c"),
        ("&", "&-"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("日本語", "&ZeVnLIqe-"),
        ("📧", "&2D3c5w-"),
        ("ü&ü", "&APw-&-&APw-"),
        ("Ärger", "&AMQ-rger"),
    ])
    func encode(input: String, expected: String) {
        #expect(ModifiedUTF7.encode(input) == expected)
    }
}
