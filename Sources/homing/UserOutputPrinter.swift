/// Prints `homing user` results in `doveadm user`'s layouts.
struct UserOutputPrinter {
    let format: UserOutputFormat
    let userdbOnly: Bool
    let field: String?
    private var headerPrinted = false
    private var jsonRows: [String] = []

    init(format: UserOutputFormat, userdbOnly: Bool, field: String?) {
        self.format = format
        self.userdbOnly = userdbOnly
        self.field = field
    }

    mutating func found(user: String, rows: [(String, String)]) {
        if let field {
            if let value = rows.first(where: { $0.0 == field })?.1 { print(value) }
            return
        }
        if userdbOnly {
            print("userdb: \(user)")
            for (name, value) in rows where name != "user" { print("  \(name): \(value)") }
            return
        }
        switch format {
        case .tab:
            header()
            for (name, value) in rows { print("\(name)\t\(value)") }
        case .flow:
            for (name, value) in rows { print("field=\(Self.flowValue(name)) value=\(Self.flowValue(value))") }
        case .table:
            let width = max(5, rows.map(\.0.count).max() ?? 0)
            if !headerPrinted {
                print("field".padding(width) + " value")
                headerPrinted = true
            }
            for (name, value) in rows { print(name.padding(width) + " " + value) }
        case .json:
            for (name, value) in rows {
                jsonRows.append("{\"field\":\(Self.jsonString(name)),\"value\":\(Self.jsonString(value))}")
            }
        }
    }

    mutating func missing(_ message: String) {
        if format == .tab && field == nil && !userdbOnly {
            header()
            print("")
        }
        print(message)
    }

    mutating func finish() {
        if format == .json && field == nil && !userdbOnly && !jsonRows.isEmpty {
            print("[" + jsonRows.joined(separator: ",") + "]")
        }
    }

    private mutating func header() {
        if !headerPrinted {
            print("field\tvalue")
            headerPrinted = true
        }
    }

    static func flowValue(_ value: String) -> String {
        value.contains(" ") || value.contains("\"") ? "\"" + value.replacingAll("\"", with: "\\\"") + "\"" : value
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
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

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for char in self { if char == target { out += replacement } else { out.append(char) } }
        return out
    }
}
