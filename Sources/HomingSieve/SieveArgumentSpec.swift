/// What a command or test accepts: tags, positional arguments, tests and a block.
struct SieveArgumentSpec: Sendable {
    /// The type a positional argument or tag parameter must have.
    enum ValueType: Sendable {
        case string
        case stringList
        case number

        var article: String {
            switch self {
            case .string: return "a string"
            case .stringList: return "a string list"
            case .number: return "a number"
            }
        }
    }

    /// A tagged argument.
    struct Tag: Sendable {
        /// Tags in the same group exclude each other (one match type, one address part...).
        var group: String
        /// The parameter following the tag, if any.
        var parameter: (type: ValueType, name: String)?
        /// The extension the tag needs.
        var requires: SieveExtension?
    }

    /// A positional argument.
    struct Positional: Sendable {
        var type: ValueType
        var name: String
    }

    /// What test part the command or test takes.
    enum TestPart: Sendable {
        case none
        case single
        case list
    }

    var tags: [String: Tag] = [:]
    var positional: [Positional] = []
    var tests: TestPart = .none
    var block = false
    /// Tag groups of which exactly one member must appear (`size` needs `:over` or `:under`).
    var requiredGroups: [String] = []
    /// How many leading positional arguments may be left out (`setflag ["\\Seen"]` without the
    /// variable name, `hasflag` without the variable list).
    var optionalLeadingPositional = 0
    /// How many trailing positional arguments may be left out (`deleteheader` without value
    /// patterns).
    var optionalTrailingPositional = 0

    // MARK: - Shared tag sets

    static let comparator: [String: Tag] = [
        "comparator": Tag(group: "comparator", parameter: (.string, "comparator name"))
    ]

    static let matchType: [String: Tag] = [
        "is": Tag(group: "match type"),
        "contains": Tag(group: "match type"),
        "matches": Tag(group: "match type"),
        "value": Tag(
            group: "match type", parameter: (.string, "relational operator"), requires: .relational),
        "count": Tag(
            group: "match type", parameter: (.string, "relational operator"), requires: .relational),
        "regex": Tag(group: "match type", requires: .regex),
    ]

    static let addressPart: [String: Tag] = [
        "all": Tag(group: "address part"),
        "localpart": Tag(group: "address part"),
        "domain": Tag(group: "address part"),
        "user": Tag(group: "address part", requires: .subaddress),
        "detail": Tag(group: "address part", requires: .subaddress),
    ]

    static let index: [String: Tag] = [
        "index": Tag(group: "index", parameter: (.number, "field index"), requires: .index),
        "last": Tag(group: "last", requires: .index),
    ]

    /// RFC 5703 section 4: `:mime` and `:anychild` (on `header`, `address` and `exists`).
    static let mime: [String: Tag] = [
        "mime": Tag(group: "mime", requires: .mime),
        "anychild": Tag(group: "anychild", requires: .mime),
    ]

    /// RFC 5703 section 4.2: the options of `header :mime`, one at most.
    static let mimeOptions: [String: Tag] = [
        "type": Tag(group: "mime option", requires: .mime),
        "subtype": Tag(group: "mime option", requires: .mime),
        "contenttype": Tag(group: "mime option", requires: .mime),
        "param": Tag(group: "mime option", parameter: (.stringList, "param list"), requires: .mime),
    ]

    static let zone: [String: Tag] = [
        "zone": Tag(group: "zone", parameter: (.string, "time zone offset")),
        "originalzone": Tag(group: "zone"),
    ]

    /// The `set` modifiers of RFC 5229 (and `:encodeurl` of RFC 5435), lowest precedence last.
    static let setModifiers = [
        "lower", "upper", "lowerfirst", "upperfirst", "quotewildcard", "quoteregex", "encodeurl", "length",
    ]

    /// The `set` modifiers as tags (for `set` and `extracttext`).
    static let modifierTags: [String: Tag] = Dictionary(
        uniqueKeysWithValues: setModifiers.map { name in
            let needed: SieveExtension? =
                switch name {
                case "quoteregex": .regex
                case "encodeurl": .enotify
                default: nil
                }
            return (name, Tag(group: name, requires: needed))
        })

    static func merged(_ sets: [String: Tag]...) -> [String: Tag] {
        sets.reduce(into: [:]) { result, set in result.merge(set) { first, _ in first } }
    }

    // MARK: - Core commands and tests (RFC 5228, with the tags extensions add to them)

    /// The spec of a command, `nil` for unknown names.
    static func command(_ name: String) -> SieveArgumentSpec? {
        switch name {
        case "require":
            return SieveArgumentSpec(positional: [Positional(type: .stringList, name: "capabilities")])
        case "if", "elsif":
            return SieveArgumentSpec(tests: .single, block: true)
        case "else":
            return SieveArgumentSpec(block: true)
        case "stop", "discard":
            return SieveArgumentSpec()
        case "keep":
            return SieveArgumentSpec(tags: [
                "flags": Tag(group: "flags", parameter: (.stringList, "flag list"), requires: .imap4flags)
            ])
        case "fileinto":
            return SieveArgumentSpec(
                tags: [
                    "copy": Tag(group: "copy", requires: .copy),
                    "create": Tag(group: "create", requires: .mailbox),
                    "flags": Tag(
                        group: "flags", parameter: (.stringList, "flag list"), requires: .imap4flags),
                ],
                positional: [Positional(type: .string, name: "folder")])
        case "redirect":
            return SieveArgumentSpec(
                tags: ["copy": Tag(group: "copy", requires: .copy)],
                positional: [Positional(type: .string, name: "address")])
        case "reject", "ereject":
            return SieveArgumentSpec(positional: [Positional(type: .string, name: "reason")])
        case "set":
            return SieveArgumentSpec(
                tags: modifierTags,
                positional: [
                    Positional(type: .string, name: "name"), Positional(type: .string, name: "value"),
                ])
        case "setflag", "addflag", "removeflag":
            return SieveArgumentSpec(
                positional: [
                    Positional(type: .string, name: "variable name"),
                    Positional(type: .stringList, name: "list of flags"),
                ],
                optionalLeadingPositional: 1)
        case "vacation":
            return SieveArgumentSpec(
                tags: [
                    "days": Tag(group: "period", parameter: (.number, "number of days")),
                    "seconds": Tag(
                        group: "period", parameter: (.number, "number of seconds"),
                        requires: .vacationSeconds),
                    "subject": Tag(group: "subject", parameter: (.string, "subject")),
                    "from": Tag(group: "from", parameter: (.string, "from address")),
                    "addresses": Tag(group: "addresses", parameter: (.stringList, "address list")),
                    "mime": Tag(group: "mime"),
                    "handle": Tag(group: "handle", parameter: (.string, "handle string")),
                ],
                positional: [Positional(type: .string, name: "reason")])
        case "include":
            return SieveArgumentSpec(
                tags: [
                    "personal": Tag(group: "location"),
                    "global": Tag(group: "location"),
                    "once": Tag(group: "once"),
                    "optional": Tag(group: "optional"),
                ],
                positional: [Positional(type: .string, name: "script name")])
        case "return":
            return SieveArgumentSpec()
        case "global":
            return SieveArgumentSpec(positional: [Positional(type: .stringList, name: "value list")])
        case "notify":
            return SieveArgumentSpec(
                tags: [
                    "from": Tag(group: "from", parameter: (.string, "from address")),
                    "importance": Tag(group: "importance", parameter: (.string, "importance")),
                    "options": Tag(group: "options", parameter: (.stringList, "options")),
                    "message": Tag(group: "message", parameter: (.string, "message")),
                ],
                positional: [Positional(type: .string, name: "method")])
        case "addheader":
            return SieveArgumentSpec(
                tags: ["last": Tag(group: "last")],
                positional: [
                    Positional(type: .string, name: "field-name"), Positional(type: .string, name: "value"),
                ])
        case "deleteheader":
            return SieveArgumentSpec(
                tags: merged(
                    comparator, matchType,
                    [
                        "index": Tag(group: "index", parameter: (.number, "field index")),
                        "last": Tag(group: "last"),
                    ]),
                positional: [
                    Positional(type: .string, name: "field name"),
                    Positional(type: .stringList, name: "value patterns"),
                ],
                optionalTrailingPositional: 1)
        case "foreverypart":
            return SieveArgumentSpec(
                tags: ["name": Tag(group: "name", parameter: (.string, "name"))], block: true)
        case "break":
            return SieveArgumentSpec(tags: ["name": Tag(group: "name", parameter: (.string, "name"))])
        case "extracttext":
            return SieveArgumentSpec(
                tags: merged(modifierTags, ["first": Tag(group: "first", parameter: (.number, "number"))]),
                positional: [Positional(type: .string, name: "varname")])
        case "error":
            return SieveArgumentSpec(positional: [Positional(type: .string, name: "message")])
        default:
            return nil
        }
    }

    /// The spec of a test, `nil` for unknown names.
    static func test(_ name: String) -> SieveArgumentSpec? {
        switch name {
        case "address":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType, addressPart, index, mime),
                positional: [
                    Positional(type: .stringList, name: "header list"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "envelope":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType, addressPart),
                positional: [
                    Positional(type: .stringList, name: "envelope part"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "header":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType, index, mime, mimeOptions),
                positional: [
                    Positional(type: .stringList, name: "header names"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "exists":
            return SieveArgumentSpec(
                tags: mime, positional: [Positional(type: .stringList, name: "header names")])
        case "size":
            return SieveArgumentSpec(
                tags: ["over": Tag(group: "size"), "under": Tag(group: "size")],
                positional: [Positional(type: .number, name: "limit")],
                requiredGroups: ["size"])
        case "allof", "anyof":
            return SieveArgumentSpec(tests: .list)
        case "not":
            return SieveArgumentSpec(tests: .single)
        case "true", "false":
            return SieveArgumentSpec()
        case "string":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType),
                positional: [
                    Positional(type: .stringList, name: "source"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "hasflag":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType),
                positional: [
                    Positional(type: .stringList, name: "variable list"),
                    Positional(type: .stringList, name: "list of flags"),
                ],
                optionalLeadingPositional: 1)
        case "body":
            return SieveArgumentSpec(
                tags: merged(
                    comparator, matchType,
                    [
                        "raw": Tag(group: "body transform"),
                        "content": Tag(group: "body transform", parameter: (.stringList, "content types")),
                        "text": Tag(group: "body transform"),
                    ]),
                positional: [Positional(type: .stringList, name: "key list")])
        case "date":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType, index, zone),
                positional: [
                    Positional(type: .string, name: "header name"),
                    Positional(type: .string, name: "date part"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "currentdate":
            return SieveArgumentSpec(
                tags: merged(
                    comparator, matchType,
                    ["zone": Tag(group: "zone", parameter: (.string, "time zone offset"))]),
                positional: [
                    Positional(type: .string, name: "date part"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "mailboxexists":
            return SieveArgumentSpec(positional: [Positional(type: .stringList, name: "mailbox names")])
        case "environment":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType),
                positional: [
                    Positional(type: .string, name: "name"),
                    Positional(type: .stringList, name: "key list"),
                ])
        case "duplicate":
            return SieveArgumentSpec(tags: [
                "handle": Tag(group: "handle", parameter: (.string, "handle")),
                "header": Tag(group: "unique id", parameter: (.string, "header name")),
                "uniqueid": Tag(group: "unique id", parameter: (.string, "unique id")),
                "seconds": Tag(group: "seconds", parameter: (.number, "seconds")),
                "last": Tag(group: "last"),
            ])
        case "valid_notify_method":
            return SieveArgumentSpec(positional: [Positional(type: .stringList, name: "notification-uris")])
        case "notify_method_capability":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType),
                positional: [
                    Positional(type: .string, name: "notification-uri"),
                    Positional(type: .string, name: "notification-capability"),
                    Positional(type: .stringList, name: "key-list"),
                ])
        case "ihave":
            return SieveArgumentSpec(positional: [Positional(type: .stringList, name: "capabilities")])
        case "spamtest":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType, ["percent": Tag(group: "percent", requires: .spamtestplus)]),
                positional: [Positional(type: .string, name: "value")])
        case "virustest":
            return SieveArgumentSpec(
                tags: merged(comparator, matchType), positional: [Positional(type: .string, name: "value")])
        default:
            return nil
        }
    }

    /// The commands of RFC 5228 itself (for `require` of a name that needs no capability).
    static let coreCommands: Set<String> = ["require", "if", "elsif", "else", "stop", "keep", "discard", "redirect"]

    /// The tests of RFC 5228 itself.
    static let coreTests: Set<String> = [
        "address", "header", "exists", "size", "allof", "anyof", "not", "true", "false",
    ]

    /// Every command name known, core or extension.
    static let knownCommands: Set<String> = [
        "require", "if", "elsif", "else", "stop", "keep", "discard", "redirect", "fileinto", "reject",
        "ereject",
        "set", "setflag", "addflag", "removeflag", "vacation", "include", "return", "global", "notify",
        "addheader", "deleteheader", "foreverypart", "break", "extracttext", "error",
    ]

    /// Every test name known, core or extension.
    static let knownTests: Set<String> = [
        "address", "header", "exists", "size", "allof", "anyof", "not", "true", "false", "envelope",
        "string",
        "hasflag", "body", "date", "currentdate", "mailboxexists", "environment", "duplicate",
        "valid_notify_method", "notify_method_capability", "ihave", "spamtest", "virustest",
    ]
}
