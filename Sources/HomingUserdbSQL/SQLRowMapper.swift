import HomingUserdb

/// What a query returned: column names and rows of text values (nil for SQL NULL).
struct SQLRows: Sendable, Hashable {
    var columns: [String]
    var rows: [[String?]]

    init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// Turns `user_query` and `iterate_query` results into userdb answers, as Dovecot does.
enum SQLRowMapper {
    /// `user_query`'s rows for `user`: no row is not found; more than one is a temporary failure
    /// (Dovecot refuses to guess); one row gives a field per non-NULL column, named by the column
    /// with a `userdb_` prefix removed, a `user` column changing the user name.
    ///
    /// Values the delivery cannot use are a temporary failure naming user, column and value:
    /// a `uid`/`gid` that is neither a number nor a system user/group name, a `home` that is
    /// not an absolute path, an empty `user`.
    ///
    /// For a passdb (`password_query`) the columns are the passdb fields by their own names;
    /// `userdb_` columns (Dovecot's userdb prefetch) are left out, and only an empty `user` is
    /// refused.
    static func lookupResult(_ result: SQLRows, user: String, role: DatabaseRole = .userdb) -> UserdbResult {
        let query = role == .passdb ? "password_query" : "user_query"
        guard let row = result.rows.first else { return .notFound }
        guard result.rows.count == 1 else {
            return .temporaryFailure(
                reason: "\(query) returned \(result.rows.count) rows for user \(user), expected at most one "
                    + "(make the WHERE clause match a unique key)")
        }
        var record = UserRecord(user: user)
        for (column, value) in zip(result.columns, row) {
            guard let value else { continue }
            if role == .passdb, column.hasPrefix("userdb_") { continue }
            let name = role == .passdb ? column : fieldName(column)
            if let problem = problem(field: name, column: column, value: value, user: user, query: query, role: role) {
                return .temporaryFailure(reason: problem)
            }
            record[name] = value
        }
        return .found(record)
    }

    /// `iterate_query`'s rows as user names: the `user` column, or `username` and `domain`
    /// joined with `@` (just `username` when `domain` is NULL or empty). Rows whose name is NULL
    /// or empty are skipped. `userdb_` prefixes are removed here too.
    static func userNames(_ result: SQLRows) throws(UserdbIterationError) -> [String] {
        let names = result.columns.map(fieldName)
        if let userColumn = names.firstIndex(of: "user") {
            return result.rows.compactMap { row in
                guard let user = row[userColumn], !user.isEmpty else { return nil }
                return user
            }
        }
        guard let usernameColumn = names.firstIndex(of: "username") else {
            throw .failed(
                reason: "iterate_query must return a 'user' column, or 'username' and 'domain' columns "
                    + "(it returned: \(result.columns.joined(separator: ", ")))")
        }
        let domainColumn = names.firstIndex(of: "domain")
        return result.rows.compactMap { row in
            guard let username = row[usernameColumn], !username.isEmpty else { return nil }
            guard let domainColumn, let domain = row[domainColumn], !domain.isEmpty else { return username }
            return username + "@" + domain
        }
    }

    /// The field a column gives: its name with a `userdb_` prefix removed.
    static func fieldName(_ column: String) -> String {
        if column.hasPrefix("userdb_"), column.count > "userdb_".count {
            return String(column.dropFirst("userdb_".count))
        }
        return column
    }

    /// Why a value cannot be used, or nil.
    private static func problem(
        field: String, column: String, value: String, user: String, query: String, role: DatabaseRole
    ) -> String? {
        let prefix = "user \(user): \(query) column '\(column)' has the value '\(value)'"
        if role == .passdb {
            return field == "user" && value.isEmpty ? "user \(user): \(query) column '\(column)' is empty" : nil
        }
        switch field {
        case "uid", "gid":
            guard isNumericID(value) || isSystemName(value) else {
                let kind = field == "uid" ? "user" : "group"
                return "\(prefix), which is neither a number nor a system \(kind) name"
            }
        case "home":
            guard value.isEmpty || value.hasPrefix("/") else {
                return "\(prefix), which is not an absolute path"
            }
        case "user":
            guard !value.isEmpty else { return "user \(user): user_query column '\(column)' is empty" }
        default:
            break
        }
        return nil
    }

    /// A decimal id that fits 32 bits (not 4294967295, which is -1).
    private static func isNumericID(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let number = UInt64(text)
        else { return false }
        return number < UInt64(UInt32.max)
    }

    /// A name `getpwnam`/`getgrnam` could know: a letter or `_`, then letters, digits, `_ . -`,
    /// and an optional final `$`.
    private static func isSystemName(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "$") { bytes.removeLast() }
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.dropFirst().allSatisfy {
            isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-")
        }
    }
}
