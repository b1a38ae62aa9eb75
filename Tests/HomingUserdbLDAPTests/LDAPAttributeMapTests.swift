import HomingUserdb
import Testing

@testable import HomingUserdbLDAP

@Suite("user_attrs parsing and mapping")
struct LDAPAttributeMapTests {
    var variables: UserdbVariables {
        var variables = UserdbVariables(request: UserdbRequest(user: "alice@example.com"))
        variables.values["hostname"] = "mx"
        return variables
    }

    @Test("The old attr=field form, a bare attribute and spaces around entries are read as Dovecot reads them")
    func oldForm() throws {
        let map = try LDAPAttributeMap.parse(" homeDirectory=home ,uidNumber=uid,  mail ,")
        #expect(map.fields.map(\.name) == ["home", "uid", "mail"])
        #expect(map.fields.map(\.ldapAttribute) == ["homeDirectory", "uidNumber", "mail"])
        #expect(map.fields.allSatisfy { $0.template == nil })
        #expect(map.requestedAttributes == ["homeDirectory", "uidNumber", "mail"])
    }

    @Test("Templates: =field=template, attr=field=prefix (gets %$), =field (empty) and !attr")
    func templateForms() throws {
        let map = try LDAPAttributeMap.parse(
            "=mail=maildir:%{ldap:homeDirectory}/Maildir, quotaBytes=quota_rule=*:bytes=, =nosieve, !cn, =x=%{ldap:a:def}%{ldap:B}")
        #expect(map.fields[0] == .init(name: "mail", ldapAttribute: "", template: "maildir:%{ldap:homeDirectory}/Maildir",
                                       skip: false, referencedAttributes: ["homeDirectory"]))
        #expect(map.fields[1].template == "*:bytes=%$")
        #expect(map.fields[1].ldapAttribute == "quotaBytes")
        #expect(map.fields[2].template == "")
        #expect(map.fields[3].skip)
        #expect(map.fields[3].ldapAttribute == "cn")
        #expect(map.fields[4].referencedAttributes == ["a", "B"])
        #expect(map.requestedAttributes == ["homeDirectory", "quotaBytes", "cn", "a", "B"])
    }

    @Test("An entry without a field name and an @ DN reference are refused with the entry named")
    func parseErrors() {
        #expect(throws: LDAPAttributeMap.ParseError.emptyFieldName(entry: "homeDirectory=")) {
            try LDAPAttributeMap.parse("uid=uid,homeDirectory=")
        }
        #expect(throws: LDAPAttributeMap.ParseError.unsupportedDNReference(entry: "@ref=manager")) {
            try LDAPAttributeMap.parse("@ref=manager")
        }
    }

    @Test("Missing attributes: plain and attr=field=template fields are left out, =field=template gets the default or nothing")
    func missingAttributes() throws {
        let map = try LDAPAttributeMap.parse(
            "homeDirectory=home, quota=quota_rule=*:bytes=%$, =q2=*:bytes=%{ldap:quota:0}, =q3=x%{ldap:quota}, gone=gone")
        let entry = LDAPEntry(dn: "uid=a", attributes: [("homedirectory", ["/h"])])
        let mapped = try map.map(entry, variables: variables)
        #expect(mapped.fields == [UserdbField("home", "/h"), UserdbField("q2", "*:bytes=0"), UserdbField("q3", "x")])
        #expect(mapped.warnings.isEmpty)
    }

    @Test("Attribute names match without regard to case, %$ is the attribute's value, and request variables expand")
    func values() throws {
        let map = try LDAPAttributeMap.parse(
            "QUOTA=quota_rule=*:bytes=%$, =mail=maildir:/srv/%d/%n/%{ldap:HomeDirectory}, =who=%{ldap:uid}@%{hostname}")
        let entry = LDAPEntry(dn: "uid=a", attributes: [("quota", ["5"]), ("homeDirectory", ["h"]), ("uid", ["a"])])
        let mapped = try map.map(entry, variables: variables)
        #expect(mapped.fields == [
            UserdbField("quota_rule", "*:bytes=5"), UserdbField("mail", "maildir:/srv/example.com/alice/h"),
            UserdbField("who", "a@mx"),
        ])
    }

    @Test("A user field changes %u, %n and %d for the fields after it, and home sets %h")
    func userChangesVariables() throws {
        let map = try LDAPAttributeMap.parse("mail=user, =mail=maildir:/srv/%d/%n, =h=%h, homeDirectory=home, =h2=%h/x")
        let entry = LDAPEntry(dn: "uid=a", attributes: [("mail", ["Carol@Example.org"]), ("homeDirectory", ["/home/c"])])
        let mapped = try map.map(entry, variables: variables)
        #expect(mapped.fields == [
            UserdbField("user", "Carol@Example.org"), UserdbField("mail", "maildir:/srv/Example.org/Carol"),
            UserdbField("h", ""), UserdbField("home", "/home/c"), UserdbField("h2", "/home/c/x"),
        ])
    }

    @Test("A multi-valued attribute gives its first value and one warning")
    func multipleValues() throws {
        let map = try LDAPAttributeMap.parse("mail=address, =m=<%{ldap:mail}>")
        let entry = LDAPEntry(dn: "uid=a", attributes: [("mail", ["a@x", "b@x"])])
        let mapped = try map.map(entry, variables: variables)
        #expect(mapped.fields == [UserdbField("address", "a@x"), UserdbField("m", "<a@x>")])
        #expect(mapped.warnings == ["Multiple values found for 'mail', using value 'a@x'"])
    }

    @Test("Iteration lists every value of attr=user and the expansion of =user=template")
    func iterationNames() throws {
        let plain = try LDAPAttributeMap.parse("mail=user")
        let entry = LDAPEntry(dn: "uid=a", attributes: [("mail", ["a@x", "b@x"]), ("uid", ["a"])])
        #expect(try plain.userNames(entry, variables: variables) == ["a@x", "b@x"])
        let template = try LDAPAttributeMap.parse("=user=%{ldap:uid}@example.com, cn=cn")
        #expect(try template.userNames(entry, variables: variables) == ["a@example.com"])
    }
}
