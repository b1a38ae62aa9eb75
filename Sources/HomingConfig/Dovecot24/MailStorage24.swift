/// Dovecot 2.4's mail storage and quota values turned into the 2.3 forms Homing's storage and
/// quota code read: `mail_driver` + `mail_path` + options as one `mail_location`, 2.4 sizes as
/// `quota_rule` limits, and the fields a 2.4 userdb returns (`mail_path`,
/// `quota_storage_size`...) as the 2.3 fields (`mail`, `quota_rule`).
public enum MailStorage24 {
    /// A value that cannot be carried over; `key` names the setting.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var key: String
        public var message: String
        public var description: String { message }
    }

    /// The `mail_location` options of the 2.4 settings, in the order they are written.
    static let pathOptions: [(setting: String, option: String)] = [
        ("mail_inbox_path", "INBOX"), ("mail_index_path", "INDEX"), ("mail_control_path", "CONTROL"),
        ("mail_volatile_path", "VOLATILEDIR"), ("mail_alt_path", "ALT"), ("mailbox_directory_name", "DIRNAME"),
        ("mailbox_root_directory_name", "MAILBOXDIR"),
    ]

    /// `mail_location` for the 2.4 `mail_*` settings in `settings` (2.4 names), variables untouched.
    /// Empty when neither `mail_driver` nor `mail_path` is set.
    public static func mailLocation(from settings: [String: String]) throws(Failure) -> String {
        let driver = settings["mail_driver"] ?? ""
        let path = settings["mail_path"] ?? ""
        if driver.isEmpty, path.isEmpty { return "" }
        switch driver {
        case "maildir", "": break
        default:
            throw Failure(key: "mail_driver", message: "mail_driver = \(driver): Homing stores mail in maildir only (mail_driver = maildir)")
        }
        var text = "maildir:" + escapingColons(path.isEmpty ? "%{home}/Maildir" : path)
        for (setting, option) in pathOptions {
            guard let value = settings[setting], !value.isEmpty else { continue }
            // Dovecot 2.4's maildir default: INBOX is the root itself.
            if setting == "mail_inbox_path", value == "." { continue }
            text += ":\(option)=" + escapingColons(value)
        }
        switch settings["mailbox_list_layout"] ?? "maildir++" {
        case "maildir++": break
        case "fs": text += ":LAYOUT=fs"
        case let other:
            throw Failure(key: "mailbox_list_layout", message: "mailbox_list_layout = \(other): Homing implements maildir++ and fs")
        }
        if let utf8 = settings["mailbox_list_utf8"]?.lowercased() {
            switch utf8 {
            case "yes": text += ":UTF-8"
            case "no": break
            default: throw Failure(key: "mailbox_list_utf8", message: "mailbox_list_utf8: invalid boolean value '\(utf8)' (use yes or no)")
            }
        }
        return text
    }

    /// `:` written `::` outside `%{ }` (where it belongs to the variable, as in `%{userdb:x}`).
    static func escapingColons(_ text: String) -> String {
        var out = ""
        var depth = 0
        var previous: Character?
        for character in text {
            if character == "{", previous == "%" { depth += 1 }
            if character == "}", depth > 0 { depth -= 1 }
            out.append(character == ":" && depth == 0 ? "::" : String(character))
            previous = character
        }
        return out
    }

    /// The blank-separated words of `text`, a `%{ ... }` kept whole.
    static func blankSeparated(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var depth = 0
        var previous: Character?
        for character in text {
            if character == "{", previous == "%" { depth += 1 } else if character == "}", depth > 0 { depth -= 1 }
            if depth == 0, character == " " || character == "\t" {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Whether `text` has a blank outside `%{ }` (where a userdb field list cannot keep it).
    static func hasBlankOutsideVariables(_ text: String) -> Bool {
        var depth = 0
        var previous: Character?
        for character in text {
            if character == "{", previous == "%" { depth += 1 } else if character == "}", depth > 0 { depth -= 1 }
            if depth == 0, character == " " || character == "\t" { return true }
            previous = character
        }
        return false
    }

    /// A 2.4 size (`1G`, `100 M`, `1024`) as Homing's size parser reads it (`1G`, `100M`, `1024B`
    /// for plain bytes).
    static func size(_ value: String) -> String {
        let compact = value.filter { $0 != " " && $0 != "\t" }
        if !compact.isEmpty, compact.allSatisfy({ $0.isASCII && $0.isNumber }) { return compact + "B" }
        return compact
    }

    /// The `quota_rule` limit for `quota_storage_size` (bytes) or `quota_message_count`; nil for
    /// unlimited.
    static func quotaLimit(_ value: String, key: String, bytes: Bool) throws(Failure) -> String? {
        let compact = value.filter { $0 != " " && $0 != "\t" }
        if compact == "unlimited" || compact == "0" { return nil }
        if !bytes {
            guard compact.allSatisfy({ $0.isASCII && $0.isNumber }), !compact.isEmpty else {
                throw Failure(key: key, message: "\(key): '\(value)' is not a number")
            }
            return "messages=\(compact)"
        }
        guard let first = compact.first, first.isNumber else {
            throw Failure(key: key, message: "\(key): '\(value)' is not a size (such as 1G)")
        }
        if compact.allSatisfy({ $0.isASCII && $0.isNumber }) { return "bytes=\(compact)" }
        return "storage=\(compact)"
    }

    /// The fields of a 2.4 userdb answer with 2.4's names turned into 2.3's: `mail_driver`,
    /// `mail_path` and the other storage fields into `mail` (with the configuration's storage
    /// settings for what the userdb did not return), `quota_storage_size`/`quota_message_count`
    /// into `quota_rule`, `quota_storage_grace` into `quota_grace`, `quota_mail_size` into
    /// `quota_max_mail_size`, `sieve_user_log_path` into `sieve_user_log`. Other fields are
    /// kept; an unusable value is left as it is (delivery then reports it). An empty `uid`, `gid`,
    /// `home`, `mail`, storage or quota field is dropped, as if the userdb had not returned it
    /// (`%{ldap:attr | default}` for an attribute some entries lack).
    public static func normalisedFields(_ fields: [(name: String, value: String)], defaults: [String: String])
        -> [(name: String, value: String)]
    {
        var storage = defaults
        var touchesStorage = false
        var result: [(name: String, value: String)] = []
        var limits: [String] = []
        let droppedWhenEmpty: Set<String> = [
            "uid", "gid", "home", "mail", "quota_rule", "quota_storage_size", "quota_message_count", "quota_storage_grace",
            "quota_mail_size",
        ]
        for field in fields {
            if field.value.isEmpty, droppedWhenEmpty.contains(field.name) || Dovecot24Reader.mailKeys.contains(field.name) {
                continue
            }
            switch field.name {
            case _ where Dovecot24Reader.mailKeys.contains(field.name):
                storage[field.name] = field.value
                touchesStorage = true
            case "quota_storage_size":
                if let limit = try? quotaLimit(field.value, key: field.name, bytes: true) { limits.append(limit) }
            case "quota_message_count":
                if let limit = try? quotaLimit(field.value, key: field.name, bytes: false) { limits.append(limit) }
            case "quota_storage_grace": result.append(("quota_grace", size(field.value)))
            case "quota_mail_size": result.append(("quota_max_mail_size", size(field.value)))
            case "sieve_user_log_path": result.append(("sieve_user_log", field.value))
            default: result.append(field)
            }
        }
        if touchesStorage, let location = try? mailLocation(from: storage), !location.isEmpty {
            result.append(("mail", location))
        }
        if !limits.isEmpty { result.append(("quota_rule", "*:" + limits.joined(separator: ":"))) }
        return result
    }
}
