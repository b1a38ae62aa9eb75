/// Turns `uid` and `gid` field values into numbers: a decimal number is kept, a name (`vmail`)
/// is looked up in the system user or group database. Callers of the chain always see numbers.
enum UserdbIDResolver {
    /// Which field a value came from: `uid` names are users, `gid` names are groups.
    enum Kind: String, Sendable, Hashable {
        case uid
        case gid
    }

    /// What a value turned out to be.
    enum Resolution: Sendable, Hashable {
        case number(UInt32)
        /// Syntactically a name, but not in the system database.
        case unknownName
        /// Neither a number nor something that could be a name (`12x`, `-1`, empty).
        case invalid
        /// The system database could not answer.
        case failed(String)
    }

    /// A decimal id without sign or spaces that fits an id (`4294967295`, i.e. -1, excluded).
    static func numericID(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let value = UInt64(text), value < UInt64(UInt32.max)
        else { return nil }
        return UInt32(value)
    }

    /// Whether a value could be a system user or group name: starts with a letter or `_`,
    /// then letters, digits, `_`, `.`, `-`, with an optional final `$` (Samba machine accounts).
    static func isNameSyntax(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "$") { bytes.removeLast() }
        guard let first = bytes.first, first.isASCIILetter || first == UInt8(ascii: "_") else {
            return false
        }
        return bytes.dropFirst().allSatisfy {
            $0.isASCIILetter || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-")
        }
    }

    /// Whether a value is acceptable in a file or configuration before any lookup.
    static func isWellFormed(_ text: String) -> Bool {
        numericID(text) != nil || isNameSyntax(text)
    }

    /// Resolves a value. Blocking for names: call on a thread pool.
    static func resolve(_ text: String, as kind: Kind) -> Resolution {
        if let number = numericID(text) { return .number(number) }
        guard isNameSyntax(text) else { return .invalid }
        switch kind {
        case .uid:
            switch SystemAccounts.user(named: text) {
            case .found(let user): return .number(user.uid)
            case .notFound: return .unknownName
            case .failed(_, let message): return .failed("getpwnam(\(text)) failed: \(message)")
            }
        case .gid:
            switch SystemAccounts.group(named: text) {
            case .found(let group): return .number(group.gid)
            case .notFound: return .unknownName
            case .failed(_, let message): return .failed("getgrnam(\(text)) failed: \(message)")
            }
        }
    }

    /// A sentence for a value that did not resolve, naming the user, the field and the value.
    static func problem(_ resolution: Resolution, user: String, kind: Kind, value: String) -> String? {
        switch resolution {
        case .number:
            return nil
        case .unknownName:
            let database = kind == .uid ? "user" : "group"
            return
                "user \(user): \(kind.rawValue) '\(value)' is not a number and no system \(database) has that name"
        case .invalid:
            return "user \(user): \(kind.rawValue) '\(value)' is neither a number nor a valid name"
        case .failed(let message):
            return "user \(user): cannot resolve \(kind.rawValue) '\(value)': \(message)"
        }
    }
}

extension UInt8 {
    fileprivate var isASCIILetter: Bool {
        (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }
}
