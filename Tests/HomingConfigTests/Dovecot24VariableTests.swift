import Testing

@testable import HomingConfig

/// Dovecot 2.4's variable syntax, with examples from the 2.4 documentation (settings variables
/// page and the 2.3 to 2.4 upgrade guide) and the behaviour of Dovecot's own engine.
@Suite("Dovecot 2.4 variables")
struct Dovecot24VariableTests {
    private func expand(_ template: String, _ values: [String: String] = [:],
                        providers: [String: @Sendable (String) -> String?] = [:],
                        escape: (String) -> String = { $0 }) throws -> String {
        try VariableExpander(values: values, providers: providers, syntax: .dovecot24).expand(template, escape: escape)
    }

    private let alice = VariableExpander.userValues(user: "alice@example.com", extra: ["home": "/home/alice"])

    @Test("The upgrade guide's replacements of one-letter variables give the 2.3 values")
    func oneLetterReplacements() throws {
        let values = alice.merging(["local_ip": "192.0.2.1", "remote_ip": "198.51.100.7", "local_port": "24",
                                    "remote_port": "4711"]) { _, new in new }
        #expect(try expand("%{user}", values) == "alice@example.com")
        #expect(try expand("%{user | domain}", values) == "example.com")
        #expect(try expand("%{user | username}", values) == "alice")
        #expect(try expand("%{home}", values) == "/home/alice")
        #expect(try expand("%{local_ip}:%{local_port} %{remote_ip}:%{remote_port}", values)
            == "192.0.2.1:24 198.51.100.7:4711")
        #expect(try expand("%{service}", values) == "lmtp")
        #expect(try expand("%{protocol}", values) == "lmtp")
    }

    @Test("The upgrade guide's modifier replacements: lower, md5 directory hashing")
    func modifierReplacements() throws {
        let values = VariableExpander.userValues(user: "Alice@Example.COM")
        #expect(try expand("%{user | lower}", values) == "alice@example.com")
        #expect(try expand("%{user | username | lower}", values) == "alice")
        // md5("hello") = 5d41402abc4b2a76b9719d911017c592
        let hello = ["user": "hello"]
        #expect(try expand("%{user | md5}", hello) == "5d41402abc4b2a76b9719d911017c592")
        #expect(try expand("%{user | md5 | hexlify(1)}", hello) == "5")
        #expect(try expand("%{user | md5 | hexlify | substr(2,1)}", hello) == "4")
        #expect(try expand("%{user | md5 | hexlify(1)}/%{user | md5 | hexlify | substr(2,1)}/%{user}", hello) == "5/4/hello")
        // The first 8 bytes 5d41402abc4b2a76 as a number, modulo 256, is 0x76.
        #expect(try expand("%{user | md5 | substr(0, 8) % 256 | hex(2)}", hello) == "76")
        #expect(try expand("%{user | md5 | substr(0, 8) % 256 | hex}", hello) == "76")
        #expect(try expand("%{user | md5 | substr(0,8) % 30 | hex}", hello) == "c")
        #expect(try expand("%{user | md5 | hexlify(8)}", hello) == "5d41402a")
    }

    @Test("Hash filters give the standard digests, with rounds and salt as named parameters")
    func hashes() throws {
        let hello = ["first": "hello"]
        #expect(try expand("%{first | sha1}", hello) == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
        #expect(try expand("%{first | sha256}", hello) == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try expand("%{first | sha384}", hello)
            == "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f")
        #expect(try expand("%{first | sha512}", hello)
            == "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")
        #expect(try expand("%{first | hash('md5')}", hello) == "5d41402abc4b2a76b9719d911017c592")
        #expect(try expand("%{first | sha1(salt='world')}", hello) == "5715790a892990382d98858c4aa38d0617151575")
        #expect(try expand("%{first | sha1(rounds=1000)}", hello) == "c0ddea212ee1af8d6401947d29c8bfab31f8ad93")
        #expect(try expand("%{first | sha1(rounds=1000,salt='world')}", hello) == "a314ec3ef5103223a4c5bd285dbe4ea5534d4334")
        #expect(try expand("%{first | md5 % 256 | hex}", hello) == "92")
        #expect(try expand("%{first | sha512 % 256 | hex}", hello) == "43")
    }

    @Test("The documentation's examples: literal, substr, concat, maths, ldap_dn, escaping of %")
    func documentationExamples() throws {
        #expect(try expand("%{literal('\\r\\n')}") == "\r\n")
        #expect(try expand("%{user | substr(0, 1)}", alice) == "a")
        #expect(try expand("%{port + 1000}", ["port": "143"]) == "1143")
        #expect(try expand("%{literal('domain.com') | ldap_dn}") == "domain,dc=com")
        #expect(try expand("%%{text}") == "%{text}")
        #expect(try expand("%%%{text}") == "%%{text}")
        #expect(try expand("%{concat('%', user)}", alice) == "%alice@example.com")
        #expect(try expand("100%% %") == "100%% %")
        #expect(try expand("%{user | md5(rounds=1000,salt='pepper')}", alice).count == 32)
        #expect(try expand("postmaster@%{user | domain | default(hostname)}", ["user": "bob", "hostname": "mx"]) == "postmaster@mx")
    }

    @Test("substr, index, fill, hex and base64 behave as in Dovecot")
    func stringFilters() throws {
        let values = ["first": "hello", "user": "user@test@domain", "uidvalidity": "1727121943", "three": "3"]
        #expect(try expand("%{first | substr(1, 2)}", values) == "el")
        #expect(try expand("%{first | substr(-2, 2)}", values) == "lo")
        #expect(try expand("%{first | substr(2, -2)}", values) == "l")
        #expect(try expand("%{first | substr(0, -1)}", values) == "hell")
        #expect(throws: VariableExpansionError.failed(message: "substr: Offset out of bounds")) {
            try expand("%{first | substr(6)}", values)
        }
        #expect(try expand("%{user | domain}", values) == "test@domain")
        #expect(try expand("%{user | domain | domain}", values) == "domain")
        #expect(try expand("%{user | index('@',-1)}", values) == "domain")
        #expect(try expand("%{user | index('@',-4) | default('hello')}", values) == "hello")
        #expect(try expand("%{three | hex(2)}", values) == "03")
        #expect(try expand("%{uidvalidity | hex}", values) == "66f1ca17")
        #expect(try expand("%{uidvalidity | hex(-2)}", values) == "66")
        #expect(try expand("%{literal('1') | lfill(3, ' ')}") == "  1")
        #expect(try expand("%{literal('1') | rfill(3)}") == "100")
        #expect(try expand("%{first | base64}", values) == "aGVsbG8=")
        #expect(try expand("%{first | base64 | unbase64 | text}", values) == "hello")
        #expect(try expand("%{literal('<<???>>') | base64(pad=0,url=1)}") == "PDw_Pz8-Pg")
        #expect(try expand("%{first | truncate(bits=7)}", values) == "4")
        #expect(try expand("%{first | reverse | upper}", values) == "OLLEH")
        #expect(try expand("%{literal('hello world') | regexp('(.*) (.*)', '\\\\2 \\\\1')}") == "world hello")
        #expect(try expand("%{literal('one\ttwo') | list}") == "one,two")
    }

    @Test("if compares numbers and strings, against the piped value or its own left-hand side")
    func conditionals() throws {
        #expect(try expand("%{if(1, '==', 1, 'yes', 'no')}") == "yes")
        #expect(try expand("%{literal('a') | if('*', '*a*', 'yes', 'no')}") == "yes")
        #expect(try expand("%{literal('this is test') | if('~', '^test', 'yes', 'no')}") == "no")
        #expect(try expand("%{user | if('eq', 'testuser', 'invalid', user) | upper}", ["user": "testuser"]) == "INVALID")
        #expect(try expand("%{user | if('eq', 'testuser', 'invalid', user) | upper}", ["user": "bob"]) == "BOB")
        #expect(throws: VariableExpansionError.failed(message: "if: Input is not a number")) {
            try expand("%{user | if('==', 2, 'a', 'b')}", ["user": "bob"])
        }
    }

    @Test("A missing variable is an error that default can replace; unknown functions are errors")
    func missingValues() throws {
        #expect(throws: VariableExpansionError.failed(message: "Unknown variable 'nosuch'")) { try expand("%{nosuch}") }
        #expect(try expand("%{nosuch | default('x')}") == "x")
        #expect(try expand("%{nosuch | default}") == "")
        #expect(throws: VariableExpansionError.failed(message: "Unknown variable 'nosuch'")) { try expand("%{nosuch | lower}") }
        #expect(throws: VariableExpansionError.failed(message: "No such function 'nosuch'")) {
            try expand("%{user | nosuch}", alice)
        }
        // 2.3's aliases are not 2.4 variables.
        #expect(throws: VariableExpansionError.failed(message: "domain: No value to get domain from")) {
            try expand("%{domain}", alice)
        }
        // Known names without a value expand to nothing, as in Dovecot.
        #expect(try expand("[%{remote_ip}]", alice) == "[]")
    }

    @Test("Providers: a missing value is an error unless default supplies one; env reads the environment")
    func providers() throws {
        let ldap: [String: @Sendable (String) -> String?] = ["ldap": { $0 == "homeDirectory" ? "/home/a" : nil }]
        #expect(try expand("%{ldap:homeDirectory}", providers: ldap) == "/home/a")
        #expect(try expand("%{ldap:mailQuota | default('1G')}", providers: ldap) == "1G")
        #expect(throws: VariableExpansionError.failed(message: "ldap: No such field 'mailQuota'")) {
            try expand("%{ldap:mailQuota}", providers: ldap)
        }
        #expect(try expand("%{env:HOMING_SURELY_UNSET_VARIABLE}") == "")
        #expect(try expand("%{process:pid}") == String(getpidValue()))
        #expect(throws: VariableExpansionError.failed(message: "Unsupported prefix 'nosuch'")) { try expand("%{nosuch:x}") }
    }

    @Test("The escape function applies to each pipeline's result, never to literal text")
    func escaping() throws {
        let escaped = try expand("'%{user}' it's", ["user": "o'brien"]) { $0.replacingQuotes() }
        #expect(escaped == "'o''brien' it's")
    }

    @Test("Syntax errors name their position")
    func syntaxErrors() {
        #expect(throws: VariableExpansionError.syntax(message: "'%{' has no closing '}'", position: 4)) {
            try expand("abc %{user")
        }
        #expect(throws: VariableExpansionError.syntax(message: "Invalid character escape", position: 11)) {
            try expand("%{literal('\\z')}")
        }
        #expect(throws: (any Error).self) { try expand("%{user | substr(0,}") }
    }
}

private func getpidValue() -> Int32 {
    VariableExpander.processValues()["pid"].flatMap { Int32($0) } ?? -1
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self {
            if character == "'" { out.append("'") }
            out.append(character)
        }
        return out
    }
}
