/// One user line of a passwd-file: `user:password:uid:gid:gecos:home:shell:extra_fields`.
struct PasswdFileEntry: Sendable, Hashable {
    /// The name matched against `username_format`.
    var user: String
    /// `uid` and `gid` as written (number or name); nil when empty or missing.
    var uid: String?
    var gid: String?
    /// `home`; nil when empty or missing.
    var home: String?
    /// The `userdb_` extra fields with the prefix removed, values unexpanded.
    var userdbFields: UserdbFieldTemplate
    /// The other extra fields (a passdb's: `proxy`, `host`, `nopassword`...), values unexpanded.
    var passdbFields = UserdbFieldTemplate()
    /// 1-based line number, for messages.
    var line: Int
}

/// A line that could not be used, and why.
struct PasswdFileProblem: Error, Sendable, Hashable, CustomStringConvertible {
    var path: String
    var line: Int
    /// The user the line is for, when its first field could be read.
    var user: String?
    var message: String

    var description: String { "\(path):\(line): \(message)" }
}

/// What a passwd-file holds, parsed. Pure: built from the file's bytes by ``PasswdFileParser``.
struct PasswdFileContents: Sendable, Hashable {
    /// How a user name is answered: its first line, usable or not.
    enum Record: Sendable, Hashable {
        case entry(PasswdFileEntry)
        case malformed(PasswdFileProblem)
    }

    /// By user name; the first line for a name wins.
    var records: [String: Record] = [:]
    /// User names in file order (first occurrences), for iteration.
    var users: [String] = []
    /// Malformed lines, to log when the file is loaded.
    var problems: [PasswdFileProblem] = []
    /// Later lines for names already seen, to warn about when the file is loaded.
    var duplicates: [PasswdFileProblem] = []
}

/// Parses Dovecot's passwd-file format.
///
/// Blank lines and lines starting with `#` are skipped. A line needs at least `user:password`;
/// trailing fields may be left out, empty uid/gid/home mean "not set". The eighth field and
/// everything after it (colons included, as in `userdb_mail=maildir:~/Maildir`) are the space
/// separated extra fields; those starting with `userdb_` are userdb fields, the others belong
/// to a passdb.
enum PasswdFileParser {
    static func parse(_ bytes: [UInt8], path: String) -> PasswdFileContents {
        parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) -> PasswdFileContents {
        var contents = PasswdFileContents()
        var lineNumber = 0
        // "\r\n" is a single Character in Swift: split on both line ends.
        for rawLine in text.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.first == "#" { continue }

            let parsed = parseLine(line, number: lineNumber, path: path)
            let user: String?
            let record: PasswdFileContents.Record
            switch parsed {
            case .success(let entry):
                user = entry.user
                record = .entry(entry)
            case .failure(let problem):
                contents.problems.append(problem)
                user = problem.user
                record = .malformed(problem)
            }
            guard let user else { continue }
            if let existing = contents.records[user] {
                let firstLine: Int
                switch existing {
                case .entry(let entry): firstLine = entry.line
                case .malformed(let problem): firstLine = problem.line
                }
                contents.duplicates.append(
                    PasswdFileProblem(
                        path: path, line: lineNumber, user: user,
                        message: "user '\(user)' already defined on line \(firstLine); this line is ignored"))
                continue
            }
            contents.records[user] = record
            contents.users.append(user)
        }
        return contents
    }

    private static func parseLine(_ line: Substring, number: Int, path: String) -> Result<
        PasswdFileEntry, PasswdFileProblem
    > {
        let fields = line.split(separator: ":", maxSplits: 7, omittingEmptySubsequences: false).map(
            String.init)
        func problem(_ message: String, user: String?) -> Result<PasswdFileEntry, PasswdFileProblem> {
            .failure(PasswdFileProblem(path: path, line: number, user: user, message: message))
        }
        let user = fields[0]
        if user.isEmpty {
            return problem("empty user name", user: nil)
        }
        if fields.count < 2 {
            return problem(
                "user '\(user)': too few fields (expected user:password:uid:gid:gecos:home:shell:extra_fields)",
                user: user)
        }
        func optional(_ index: Int) -> String? {
            guard index < fields.count, !fields[index].isEmpty else { return nil }
            return fields[index]
        }
        let uid = optional(2)
        let gid = optional(3)
        if let uid, !UserdbIDResolver.isWellFormed(uid) {
            return problem(
                "user '\(user)': uid '\(uid)' is neither a number nor a valid user name", user: user)
        }
        if let gid, !UserdbIDResolver.isWellFormed(gid) {
            return problem(
                "user '\(user)': gid '\(gid)' is neither a number nor a valid group name", user: user)
        }
        var userdbFields = UserdbFieldTemplate()
        var passdbFields = UserdbFieldTemplate()
        if let extra = optional(7) {
            let all: UserdbFieldTemplate
            do {
                all = try UserdbFieldTemplate.parse(extra)
            } catch {
                return problem("user '\(user)': extra fields: \(error)", user: user)
            }
            for entry in all.entries where !entry.name.hasPrefix("userdb_") {
                passdbFields.entries.append(entry)
            }
            for entry in all.entries where entry.name.hasPrefix("userdb_") {
                let name = String(entry.name.dropFirst("userdb_".count))
                if name.isEmpty {
                    return problem(
                        "user '\(user)': extra field '\(entry.name)' has no name after userdb_", user: user)
                }
                userdbFields.entries.append(.init(name: name, template: entry.template))
            }
        }
        return .success(
            PasswdFileEntry(
                user: user, uid: uid, gid: gid, home: optional(5), userdbFields: userdbFields, passdbFields: passdbFields,
                line: number)
        )
    }
}
