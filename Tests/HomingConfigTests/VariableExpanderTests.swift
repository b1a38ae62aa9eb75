import Testing
import Foundation
@testable import HomingConfig

@Suite("% variable expansion")
struct VariableExpanderTests {
    let expander = VariableExpander(values: VariableExpander.userValues(
        user: "John.Doe@Example.COM", extra: ["home": "/home/john", "local_ip": "127.0.0.1", "remote_ip": "10.0.0.2", "pid": "42", "uid": "1000"]))

    @Test("short and long variables")
    func basics() throws {
        #expect(try expander.expand("%u|%n|%d|%h|%s|%l|%r|%p|%i") == "John.Doe@Example.COM|John.Doe|Example.COM|/home/john|lmtp|127.0.0.1|10.0.0.2|42|1000")
        #expect(try expander.expand("%{user} %{username} %{domain} %{home} %{service}") == "John.Doe@Example.COM John.Doe Example.COM /home/john lmtp")
        #expect(try expander.expand("100%% sure") == "100% sure")
        #expect(try expander.expand("no variables") == "no variables")
    }

    @Test("userValues splits at the last @")
    func userValues() {
        #expect(VariableExpander.userValues(user: "a@b@c.org")["username"] == "a@b")
        #expect(VariableExpander.userValues(user: "a@b@c.org")["domain"] == "c.org")
        #expect(VariableExpander.userValues(user: "root")["username"] == "root")
        #expect(VariableExpander.userValues(user: "root")["domain"] == "")
    }

    @Test("case modifiers")
    func caseModifiers() throws {
        #expect(try expander.expand("%Lu") == "john.doe@example.com")
        #expect(try expander.expand("%Ud") == "EXAMPLE.COM")
        #expect(try expander.expand("%L{domain}") == "example.com")
    }

    @Test("E escapes quotes and backslashes")
    func escapeModifier() throws {
        let e = VariableExpander(values: ["user": #"o'b"r\n"#])
        #expect(try e.expand("%Eu") == #"o\'b\"r\\n"#)
    }

    @Test("R reverses, X converts to hex, T trims trailing whitespace")
    func otherModifiers() throws {
        let e = VariableExpander(values: ["user": "abc", "uid": "255", "home": "x  \t"])
        #expect(try e.expand("%Ru") == "cba")
        #expect(try e.expand("%Xi") == "ff")
        #expect(try e.expand("[%Th]") == "[x]")
        #expect(try e.expand("%LRu") == "cba")
    }

    @Test("D turns a domain into dc= form")
    func domainModifier() throws {
        let e = VariableExpander(values: ["domain": "mail.example.org"])
        #expect(try e.expand("dc=%Dd") == "dc=mail,dc=example,dc=org")
    }

    @Test("H hashes, with width as modulus")
    func hashModifier() throws {
        let e = VariableExpander(values: ["user": "ab"])
        // 'a' = 0x61; (0x61 << 4) + 0x62 = 0x672
        #expect(try e.expand("%Hu") == "672")
        #expect(try e.expand("%16Hu") == "2")
        #expect(try e.expand("%4.16Hu") == "0002")
    }

    @Test("N and M are reported as unsupported modifiers")
    func unsupported() {
        #expect(throws: VariableExpansionError.unsupportedModifier(modifier: "N", position: 4)) {
            try expander.expand("abc/%Nu")
        }
    }

    @Test("substrings: width, offset and width, negative offset and width, zero padding")
    func substrings() throws {
        let e = VariableExpander(values: ["user": "abcdef", "uid": "7"])
        #expect(try e.expand("%1u") == "a")
        #expect(try e.expand("%.1u") == "a")
        #expect(try e.expand("%2u") == "ab")
        #expect(try e.expand("%2.1u") == "c")
        #expect(try e.expand("%2.3u") == "cde")
        #expect(try e.expand("%-2.2u") == "ef")
        #expect(try e.expand("%-10.2u") == "ab")
        #expect(try e.expand("%10.2u") == "")
        #expect(try e.expand("%0.-2u") == "abcd")
        #expect(try e.expand("%04i") == "0007")
        #expect(try e.expand("%1{user}/%2.1{user}") == "a/c")
        #expect(try e.expand("%1Uu") == "A")
    }

    @Test("an unknown variable is an error with its name and position")
    func unknown() {
        #expect(throws: VariableExpansionError.unknownVariable(name: "z", position: 3)) {
            try expander.expand("ab/%z")
        }
        #expect(throws: VariableExpansionError.unknownVariable(name: "nosuch", position: 0)) {
            try expander.expand("%{nosuch}")
        }
        #expect(VariableExpansionError.unknownVariable(name: "z", position: 3).description == "unknown variable %z at position 3")
        #expect(throws: VariableExpansionError.unterminatedBrace(position: 1)) {
            try expander.expand("a%{user")
        }
        #expect(throws: VariableExpansionError.incompleteVariable(position: 2)) {
            try expander.expand("ab%")
        }
    }

    @Test("known variables without a value expand to nothing")
    func knownButMissing() throws {
        let e = VariableExpander(values: ["user": "a"])
        #expect(try e.expand("[%r|%{remote_ip}|%h|%{hostname}]") == "[|||]")
    }

    @Test("single letters without a long name are looked up as themselves")
    func letterValues() throws {
        let e = VariableExpander(values: ["m": "<id@x>", "$": "saved"])
        #expect(try e.expand("msgid=%m: %$") == "msgid=<id@x>: saved")
    }

    @Test("providers answer %{name:key} and %{name:key:default}")
    func providers() throws {
        let e = VariableExpander(values: [:], providers: [
            "ldap": { key in key == "homeDirectory" ? "/srv/x" : nil },
        ])
        #expect(try e.expand("%{ldap:homeDirectory}") == "/srv/x")
        #expect(try e.expand("[%{ldap:missing}]") == "[]")
        #expect(try e.expand("%{ldap:missing:/var/empty}") == "/var/empty")
        #expect(try e.expand("%U{ldap:homeDirectory}") == "/SRV/X")
        #expect(throws: VariableExpansionError.unknownVariable(name: "sql:x", position: 0)) {
            try e.expand("%{sql:x}")
        }
    }

    @Test("%{env:NAME} reads the environment")
    func environment() throws {
        let e = VariableExpander(values: [:])
        #expect(try e.expand("%{env:PATH}").isEmpty == false)
        #expect(try e.expand("[%{env:HOMING_SURELY_UNSET_VARIABLE}]") == "[]")
    }

    @Test("escape is applied to substituted values only")
    func escaping() throws {
        let e = VariableExpander(values: ["user": "o'neil"])
        let sql = try e.expand("WHERE u = '%u'") { $0.replacingOccurrences(of: "'", with: "''") }
        #expect(sql == "WHERE u = 'o''neil'")
    }

    @Test("process values hold pid and hostname")
    func processValues() {
        let values = VariableExpander.processValues()
        #expect(values["pid"] != nil)
        #expect(values["hostname"]?.contains(".") == false)
    }
}
