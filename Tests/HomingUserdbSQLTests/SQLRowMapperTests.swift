import HomingUserdb
import Testing

@testable import HomingUserdbSQL

@Suite("user_query and iterate_query results become userdb answers")
struct SQLRowMapperTests {
    @Test("no row is not found")
    func noRow() {
        #expect(SQLRowMapper.lookupResult(SQLRows(columns: ["home"], rows: []), user: "a@b") == .notFound)
    }

    @Test("columns become fields by name in order, NULLs left out, userdb_ prefixes removed")
    func fields() {
        let rows = SQLRows(
            columns: ["home", "mail", "uid", "gid", "quota_rule", "userdb_quota_rule2", "nothing"],
            rows: [["/var/vmail/b/a", "maildir:~/Maildir", "5000", "5000", "*:bytes=1048576", "Trash:ignore", nil]])
        let expected = UserRecord(user: "a@b", fields: [
            UserdbField("home", "/var/vmail/b/a"), UserdbField("mail", "maildir:~/Maildir"), UserdbField("uid", "5000"),
            UserdbField("gid", "5000"), UserdbField("quota_rule", "*:bytes=1048576"), UserdbField("quota_rule2", "Trash:ignore"),
        ])
        #expect(SQLRowMapper.lookupResult(rows, user: "a@b") == .found(expected))
    }

    @Test("a user column changes the user name")
    func userColumn() {
        let rows = SQLRows(columns: ["user", "uid"], rows: [["alice@example.com", "5000"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "ALIAS@example.com")
            == .found(UserRecord(user: "alice@example.com", fields: [UserdbField("uid", "5000")])))
    }

    @Test("more than one row is a temporary failure with the count")
    func severalRows() {
        let rows = SQLRows(columns: ["uid"], rows: [["1000"], ["1001"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "a@b") == .temporaryFailure(
            reason: "user_query returned 2 rows for user a@b, expected at most one (make the WHERE clause match a unique key)"))
    }

    @Test("a uid that is neither a number nor a name names user, column and value")
    func badUID() {
        let rows = SQLRows(columns: ["userdb_uid"], rows: [["12x"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "a@b") == .temporaryFailure(
            reason: "user a@b: user_query column 'userdb_uid' has the value '12x', which is neither a number nor a system user name"))
        #expect(SQLRowMapper.lookupResult(SQLRows(columns: ["gid"], rows: [["-1"]]), user: "a@b").failureReason
            == "user a@b: user_query column 'gid' has the value '-1', which is neither a number nor a system group name")
        #expect(SQLRowMapper.lookupResult(SQLRows(columns: ["uid"], rows: [["4294967295"]]), user: "a@b").failureReason != nil)
    }

    @Test("a uid given as a system user name is passed on for the chain to resolve")
    func namedUID() {
        let rows = SQLRows(columns: ["uid", "gid"], rows: [["vmail", "mail"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "a@b").record?.uid == "vmail")
    }

    @Test("a relative home is a temporary failure naming it")
    func relativeHome() {
        let rows = SQLRows(columns: ["home"], rows: [["var/vmail/a"]])
        #expect(SQLRowMapper.lookupResult(rows, user: "a@b") == .temporaryFailure(
            reason: "user a@b: user_query column 'home' has the value 'var/vmail/a', which is not an absolute path"))
    }

    @Test("iteration reads a user column")
    func iterateUser() throws {
        let rows = SQLRows(columns: ["user"], rows: [["a@b"], [nil], ["c@d"]])
        #expect(try SQLRowMapper.userNames(rows) == ["a@b", "c@d"])
    }

    @Test("iteration joins username and domain, a missing domain leaving the username alone")
    func iterateUsernameDomain() throws {
        let rows = SQLRows(columns: ["username", "domain"], rows: [["a", "b"], ["c", nil], ["e", ""]])
        #expect(try SQLRowMapper.userNames(rows) == ["a@b", "c", "e"])
    }

    @Test("iteration without a usable column says which columns it needs")
    func iterateWrongColumns() {
        #expect(throws: UserdbIterationError.failed(
            reason: "iterate_query must return a 'user' column, or 'username' and 'domain' columns (it returned: name)")) {
            try SQLRowMapper.userNames(SQLRows(columns: ["name"], rows: []))
        }
    }
}
