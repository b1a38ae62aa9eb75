/// Builds `homing user`'s output as `doveadm user` (Dovecot 2.3) prints it, byte for byte.
///
/// doveadm writes through two buffers: its formatter (`tab`, `json`, `flow`) has an output
/// stream of its own, flushed when the command ends, while the line between two users, the
/// `userdb lookup: user X doesn't exist` lines, the `-u` and `--field` output and the `table`
/// formatter go through C's stdio, flushed at exit. What a reader sees therefore depends on
/// where standard output goes:
///
/// - to a pipe or a file (scripts, `doveadm user x | ...`): the formatter's output first, then
///   the stdio text: `field\tvalue\n\nuserdb lookup: user x doesn't exist\n`;
/// - to a terminal (stdio is line-buffered there): the stdio text first.
///
/// The `table` formatter prints through stdio when it is flushed at the end, after the lines
/// written before, both ways. This printer keeps the two texts apart and joins them as doveadm's
/// output ends up, so `homing user` reads the same as `doveadm user` in either place.
struct UserOutputPrinter {
    let format: UserOutputFormat
    let userdbOnly: Bool
    let field: String?
    /// Whether standard output is a terminal (see above).
    let toTerminal: Bool

    /// What doveadm's stdio gets, in order.
    private var stdio = ""
    /// What doveadm's formatter prints (tab, flow), or its rows (json, table).
    private var formatted = ""
    private var jsonRows: [String] = []
    private var tableRows: [[String]] = []
    private var users = 0
    /// Text for standard error (`--field` and `-u --field` not-found lines).
    private(set) var errors = ""

    init(format: UserOutputFormat, userdbOnly: Bool, field: String?, toTerminal: Bool) {
        self.format = format
        self.userdbOnly = userdbOnly
        self.field = field
        self.toTerminal = toTerminal
    }

    /// Whether the formatter is in use: not for `-u`, not for `--field`.
    private var usesFormatter: Bool { !userdbOnly && field == nil }

    /// Call before each user: doveadm puts an empty line (through stdio) between users.
    mutating func startUser() {
        if users > 0 { stdio += "\n" }
        users += 1
    }

    /// A user found. `rows` are the full lookup's rows in doveadm's order (see
    /// `UserCommand.rows`); for `-u`, `lookedUp` and `user` head the block and `userdbFields`
    /// follow as the userdb returned them.
    mutating func found(lookedUp: String, user: String, rows: [(String, String)], userdbFields: [(String, String)]) {
        if userdbOnly {
            if let field {
                for (name, value) in userdbFields where name == field { stdio += value + "\n" }
                return
            }
            stdio += "userdb: \(lookedUp)\n"
            stdio += "  " + Self.padded("user", 10) + ": " + user + "\n"
            for (name, value) in userdbFields { stdio += "  " + Self.padded(name, 10) + ": " + value + "\n" }
            return
        }
        if let field {
            for (name, value) in rows where name == field { stdio += value + "\n" }
            return
        }
        switch format {
        case .tab:
            for (name, value) in rows { formatted += "\(name)\t\(value)\n" }
        case .flow:
            for (name, value) in rows { formatted += "field=\(name) value=\(value)\n" }
        case .json:
            for (name, value) in rows {
                jsonRows.append("{\"field\":\(Self.jsonString(name)),\"value\":\(Self.jsonString(value))}")
            }
        case .table:
            for (name, value) in rows { tableRows.append([name, value]) }
        }
    }

    /// A user that does not exist (`name` as given).
    mutating func missing(_ name: String) {
        if userdbOnly {
            let line = "userdb lookup: user \(name) doesn't exist\n"
            if field == nil { stdio += line } else { errors += line }
        } else {
            let line = "\nuserdb lookup: user \(name) doesn't exist\n"
            if field == nil { stdio += line } else { errors += line }
        }
    }

    /// Everything for standard output, in the order doveadm's would come out.
    func output(width: Int) -> String {
        guard usesFormatter else { return stdio }
        switch format {
        case .table:
            var table = DoveadmTable(columns: [.init(title: "field"), .init(title: "value")], width: width)
            table.rows = tableRows
            return stdio + table.text
        case .tab:
            return join("field\tvalue\n" + formatted)
        case .flow:
            return join(formatted)
        case .json:
            return join("[" + jsonRows.joined(separator: ",") + "]")
        }
    }

    private func join(_ formatterOutput: String) -> String {
        toTerminal ? stdio + formatterOutput : formatterOutput + stdio
    }

    /// `%-10s`.
    static func padded(_ text: String, _ width: Int) -> String {
        text.utf8.count >= width ? text : text + String(repeating: " ", count: width - text.utf8.count)
    }

    /// A JSON string as doveadm writes it (`json_append_escaped`): `"` and `\`, the named
    /// control escapes, `\u00XX` for other control characters and for U+2028/U+2029.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
