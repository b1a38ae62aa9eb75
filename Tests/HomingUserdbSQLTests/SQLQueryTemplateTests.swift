import HomingConfig
import HomingUserdb
import Testing

@testable import HomingUserdbSQL

@Suite("user_query templates: quoted variables become bound parameters")
struct SQLQueryTemplateTests {
    let expander = UserdbVariables(request: UserdbRequest(user: "Al'ice@example.com")).expander()

    func render(_ query: String) throws -> (sql: String, parameters: [String]) {
        try SQLQueryTemplate(query).render(with: expander, escape: SQLQueryTemplate.doublingQuotes)
    }

    @Test("each quoted literal with variables becomes one parameter, in order")
    func literalsBecomeParameters() throws {
        let rendered = try render("SELECT home FROM users WHERE username = '%n' AND domain = '%d'")
        #expect(rendered.sql == "SELECT home FROM users WHERE username = $1 AND domain = $2")
        #expect(rendered.parameters == ["Al'ice", "example.com"])
    }

    @Test("a literal mixing text and variables is one parameter with the whole expanded content")
    func mixedLiteral() throws {
        let rendered = try render("SELECT '/var/vmail/%d/%n' AS home, 'it''s' AS x FROM users WHERE userid = '%u'")
        #expect(rendered.sql == "SELECT $1 AS home, 'it''s' AS x FROM users WHERE userid = $2")
        #expect(rendered.parameters == ["/var/vmail/example.com/Al'ice", "Al'ice@example.com"])
    }

    @Test("quotes inside a literal with a variable are undone before binding")
    func doubledQuotesInParameter() throws {
        let rendered = try render("SELECT 1 WHERE x = 'o''%n'")
        #expect(rendered.parameters == ["o'Al'ice"])
    }

    @Test("modifiers and long names work inside parameters")
    func modifiers() throws {
        let rendered = try render("SELECT 1 WHERE u = '%Lu' AND d = '%{domain}'")
        #expect(rendered.parameters == ["al'ice@example.com", "example.com"])
    }

    @Test("literals without variables and %% stay literal text")
    func plainLiterals() throws {
        let rendered = try render("SELECT '*:bytes=' || q, 100 %% 7 FROM t WHERE a = 'x'")
        #expect(rendered.sql == "SELECT '*:bytes=' || q, 100 % 7 FROM t WHERE a = 'x'")
        #expect(rendered.parameters == [])
    }

    @Test("an unquoted variable is expanded with escaping and flagged")
    func unquoted() throws {
        let template = SQLQueryTemplate("SELECT 1 FROM t WHERE u = %u")
        #expect(template.hasUnquotedVariables)
        #expect(try render("SELECT 1 FROM t WHERE u = %u").sql == "SELECT 1 FROM t WHERE u = Al''ice@example.com")
        #expect(SQLQueryTemplate("SELECT 1 FROM t WHERE u = '%u'").hasUnquotedVariables == false)
    }

    @Test("a typed literal and an E'' literal are expanded with escaping instead of bound")
    func typedAndEscapeLiterals() throws {
        let typed = try render("SELECT date '%n' FROM t")
        #expect(typed.sql == "SELECT date 'Al''ice' FROM t")
        #expect(typed.parameters == [])
        let escaped = try render("SELECT 1 WHERE u = E'%n'")
        #expect(escaped.sql == "SELECT 1 WHERE u = E'Al''ice'")
        let backslash = UserdbVariables(request: UserdbRequest(user: #"x\'y@d"#)).expander()
        let rendered = try SQLQueryTemplate("SELECT 1 WHERE u = E'%n' AND v = e'a'")
            .render(with: backslash, escape: SQLQueryTemplate.doublingQuotes)
        #expect(rendered.sql == #"SELECT 1 WHERE u = E'x\\''y' AND v = e'a'"#)
    }

    @Test("quotes in comments, identifiers and dollar quotes do not start literals")
    func commentsAndIdentifiers() throws {
        let rendered = try render("SELECT \"it's\" -- don't\n, $$a'b$$, /* ' */ x FROM t WHERE u = '%u'")
        #expect(rendered.sql == "SELECT \"it's\" -- don't\n, $$a'b$$, /* ' */ x FROM t WHERE u = $1")
        #expect(rendered.parameters == ["Al'ice@example.com"])
    }

    @Test("LIKE patterns and IN lists take parameters")
    func likeAndIn() throws {
        let rendered = try render("SELECT 1 WHERE u LIKE '%n%%' OR d IN ('%d', 'x')")
        #expect(rendered.sql == "SELECT 1 WHERE u LIKE $1 OR d IN ($2, 'x')")
        #expect(rendered.parameters == ["Al'ice%", "example.com"])
    }

    @Test("an unknown variable is an expansion error")
    func unknownVariable() {
        #expect(throws: VariableExpansionError.self) { try render("SELECT 1 WHERE u = '%{nosuch}'") }
    }
}
