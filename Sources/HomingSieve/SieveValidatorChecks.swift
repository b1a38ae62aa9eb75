/// The checks of single commands and tests beyond their argument shapes: values that can be
/// verified at compile time when they are constant (no `${...}` with `variables`).
extension SieveValidator {
    /// RFC 5260 section 4.2 date parts.
    static let dateParts: Set<String> = [
        "year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601",
        "std11", "zone", "weekday",
    ]

    // MARK: - Commands

    mutating func checkCommand(_ command: SieveCommand, _ parsed: SieveParsedArguments) throws(SieveError) {
        switch command.name {
        case "redirect":
            if let argument = parsed.positional.first, let address = constant(argument) {
                if let problem = Self.addressProblem(address) {
                    throw SieveError(
                        .invalidValue, at: argument.location,
                        "specified redirect address '\(address)' is invalid: \(problem)")
                }
            }
        case "set":
            try checkSet(parsed)
        case "setflag", "addflag", "removeflag":
            if parsed.positional.count == 2 {
                try checkVariableNameArgument(parsed.positional[0], owner: "\(command.name) command")
            }
        case "vacation":
            if let from = parsed.parameter("from"), let address = constant(from),
                let problem = Self.addressProblem(address)
            {
                throw SieveError(
                    .invalidValue, at: from.location,
                    "specified :from address '\(address)' is invalid for vacation action: \(problem)")
            }
            if let addresses = parsed.parameter("addresses") {
                for address in addresses.strings ?? [] where !containsVariables(address) {
                    if let problem = Self.addressProblem(address) {
                        throw SieveError(
                            .invalidValue, at: addresses.location,
                            "specified :addresses address '\(address)' is invalid for vacation action: \(problem)"
                        )
                    }
                }
            }
        case "include":
            if let argument = parsed.positional.first, case .string(let name) = argument.value {
                if containsVariables(name) {
                    throw SieveError(
                        .invalidValue, at: argument.location,
                        "include: the script name must be a constant string, but '\(name)' contains variables")
                }
                if let problem = Self.scriptNameProblem(name) {
                    throw SieveError(
                        .invalidValue, at: argument.location, "include: invalid script name '\(name)': \(problem)")
                }
            }
        case "global":
            if let argument = parsed.positional.first {
                for name in argument.strings ?? [] where !Self.isIdentifier(name) {
                    throw SieveError(
                        .invalidValue, at: argument.location,
                        "invalid variable name '\(name)' for the global command")
                }
            }
        case "notify":
            try checkNotify(command, parsed)
        case "addheader":
            try checkAddHeader(parsed)
        case "deleteheader":
            try checkDeleteHeader(parsed, location: command.location)
        case "foreverypart":
            try checkForEveryPart(parsed, location: command.location)
        case "break":
            try checkBreak(parsed, location: command.location)
        case "extracttext":
            try checkExtractText(parsed, location: command.location)
        default:
            break
        }
    }

    private func checkSet(_ parsed: SieveParsedArguments) throws(SieveError) {
        if let argument = parsed.positional.first {
            try checkVariableNameArgument(argument, owner: "set command")
        }
        try checkModifiers(parsed, owner: "set command")
    }

    /// Modifiers of equal precedence cannot be combined (RFC 5229 section 4.1).
    func checkModifiers(_ parsed: SieveParsedArguments, owner: String) throws(SieveError) {
        var seen: [Int: String] = [:]
        for tag in parsed.tagged {
            guard let precedence = SieveVariableModifier.precedence[tag.name] else { continue }
            if let other = seen[precedence] {
                throw SieveError(
                    .invalidArguments, at: tag.location,
                    "modifiers :\(other) and :\(tag.name) specified for the \(owner) conflict having equal precedence"
                )
            }
            seen[precedence] = tag.name
        }
    }

    func checkVariableNameArgument(_ argument: SieveArgument, owner: String) throws(SieveError) {
        guard case .string(let name) = argument.value else { return }
        if !extensions.contains(.variables) {
            throw SieveError(
                .invalidArguments, at: argument.location,
                "the variable name argument of the \(owner) is only available after require :variables")
        }
        if !isVariableName(name) {
            throw SieveError(
                .invalidValue, at: argument.location, "invalid variable name '\(name)' for the \(owner)")
        }
    }

    // MARK: - Tests

    /// Checks the parameter of a tag as soon as it is read (as Pigeonhole does): comparator
    /// names and relational operators.
    func checkTagParameter(_ tagName: String, _ argument: SieveArgument, owner: String) throws(SieveError) {
        guard case .string(let text) = argument.value else { return }
        switch tagName {
        case "comparator":
            guard let known = SieveComparator(rawValue: text.lowercased()) else {
                throw SieveError(.invalidValue, at: argument.location, "unknown comparator '\(text)'")
            }
            if known == .asciiNumeric, !extensions.contains(.comparatorAsciiNumeric) {
                throw SieveError(
                    .invalidValue, at: argument.location,
                    "unknown comparator '\(text)' (only available after require :comparator-i;ascii-numeric)")
            }
        case "value", "count":
            if !containsVariables(text), SieveRelation(rawValue: text.lowercased()) == nil {
                throw SieveError(
                    .invalidValue, at: argument.location,
                    "invalid relational operator '\(text)' for the :\(tagName) match type of the \(owner) (expected gt, ge, lt, le, eq or ne)"
                )
            }
        default:
            break
        }
    }

    /// Checks the values of `test`; returns its value when it is known before run time
    /// (`ihave`).
    mutating func checkTest(_ test: SieveTest, _ parsed: SieveParsedArguments) throws(SieveError) -> Constant {
        let owner = "\(test.name) test"
        try checkComparatorAndMatchType(parsed, owner: owner, location: test.location)
        if parsed.has("last"), test.name != "duplicate", !parsed.has("index") {
            let last = parsed.tag("last")?.location ?? test.location
            throw SieveError(
                .invalidArguments, at: last, "the :last tag for the \(owner) requires the :index tag as well")
        }
        if let index = parsed.parameter("index"), case .number(0) = index.value {
            throw SieveError(
                .invalidValue, at: index.location,
                "the :index tag for the \(owner) requires a field index greater than zero (fields are counted from 1)")
        }
        switch test.name {
        case "header", "exists", "address":
            if let names = parsed.positional.first {
                try checkHeaderNames(names, owner: owner)
            }
        case "date", "currentdate":
            if test.name == "date", let name = parsed.positional.first {
                try checkHeaderNames(name, owner: owner)
            }
            if let zone = parsed.parameter("zone"), let text = constant(zone), !Self.isZone(text) {
                throw SieveError(
                    .invalidValue, at: zone.location,
                    "specified :zone argument '\(text)' is not a valid timezone (expected +hhmm or -hhmm)")
            }
            // An unknown part is not an error (as in Pigeonhole): the test is then false.
            let partIndex = test.name == "date" ? 1 : 0
            if partIndex < parsed.positional.count, let part = constant(parsed.positional[partIndex]),
                !Self.dateParts.contains(part.lowercased())
            {
                warn(parsed.positional[partIndex].location, "specified date part `\(part)' is not known")
            }
        case "hasflag":
            if parsed.positional.count == 2 {
                let variables = parsed.positional[0]
                if !extensions.contains(.variables) {
                    throw SieveError(
                        .invalidArguments, at: variables.location,
                        "the variable list argument of the hasflag test is only available after require :variables")
                }
                for name in variables.strings ?? [] where !isVariableName(name) {
                    throw SieveError(
                        .invalidValue, at: variables.location, "invalid variable name '\(name)' for the hasflag test")
                }
            }
        case "duplicate":
            if let header = parsed.parameter("header") {
                try checkHeaderNames(header, owner: owner)
            }
        case "ihave":
            return try checkIHave(parsed)
        default:
            break
        }
        return nil
    }

    func checkComparatorAndMatchType(
        _ parsed: SieveParsedArguments, owner: String, location: SieveSourceLocation
    ) throws(SieveError) {
        let comparator = parsed.comparator ?? .asciiCasemap
        var matchTag: SieveTaggedArgument?
        for tag in parsed.tagged where SieveArgumentSpec.matchType[tag.name] != nil {
            matchTag = tag
        }
        guard let matchTag else { return }
        let matchType: SieveMatchType? =
            switch matchTag.name {
            case "contains": .contains
            case "matches": .matches
            case "regex": .regex
            default: nil
            }
        if let matchType, !comparator.supports(matchType) {
            throw SieveError(
                .invalidArguments, at: matchTag.location,
                "the specified \(comparator.rawValue) comparator does not support sub-string matching as required by the :\(matchTag.name) match type"
            )
        }
        if matchTag.name == "regex", let keys = parsed.positional.last {
            for key in keys.strings ?? [] where !containsVariables(key) {
                if let problem = SieveMatcher.validateRegex(key, comparator: comparator) {
                    throw SieveError(
                        .invalidValue, at: keys.location,
                        "invalid regular expression '\(key)' for regex match: \(problem.message)")
                }
            }
        }
    }

    func checkHeaderNames(_ argument: SieveArgument, owner: String) throws(SieveError) {
        for name in argument.strings ?? [] where !containsVariables(name) {
            if !Self.isHeaderName(name) {
                throw SieveError(
                    .invalidValue, at: argument.location,
                    "the \(owner): specified header field name '\(name)' is invalid")
            }
        }
    }

    // MARK: - Values

    /// Whether `text` may expand variables at run time (only with `variables` required).
    func containsVariables(_ text: String) -> Bool {
        extensions.contains(.variables) && text.contains("${")
    }

    /// The string of a single-string argument when it is constant, otherwise `nil`.
    func constant(_ argument: SieveArgument) -> String? {
        guard case .string(let text) = argument.value, !containsVariables(text) else { return nil }
        return text
    }

    /// A name `set`, the imap4flags commands and `hasflag` may assign or read: an identifier, or
    /// `global.identifier` when `include` is required (RFC 6609 section 3.5).
    func isVariableName(_ name: String) -> Bool {
        if Self.isIdentifier(name) { return true }
        guard extensions.contains(.include), name.count > 7, name.prefix(7).lowercased() == "global." else {
            return false
        }
        return Self.isIdentifier(String(name.dropFirst(7)))
    }

    /// RFC 5229 `identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_")`.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }

    /// RFC 5322 `field-name = 1*ftext`, `ftext = %d33-57 / %d59-126`.
    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }

    /// RFC 5260 `:zone`: `+hhmm` or `-hhmm`, hours up to 23 (Pigeonhole allows up to 99),
    /// minutes up to 59.
    static func isZone(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            bytes[1...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return false }
        let minutes = Int(bytes[3] - UInt8(ascii: "0")) * 10 + Int(bytes[4] - UInt8(ascii: "0"))
        return minutes < 60
    }

    /// Why `name` cannot name a script for `include`, or `nil` when it can.
    static func scriptNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.contains("/") { return "the name contains '/'" }
        if name == "." || name == ".." { return "the name is '\(name)'" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "the name contains control characters"
        }
        return nil
    }

    /// Why `text` is not a usable mail address (`local@domain`, optionally as
    /// `Name <local@domain>`), or `nil` when it is.
    static func addressProblem(_ text: String) -> String? {
        var address = Substring(text.trimmingASCIIWhitespace())
        if address.hasSuffix(">"), let open = address.lastIndex(of: "<") {
            address = address[address.index(after: open)..<address.index(before: address.endIndex)]
        }
        if address.isEmpty { return "the address is empty" }
        var inQuotes = false
        var escaped = false
        var at: Substring.Index?
        for index in address.indices {
            let character = address[index]
            if escaped {
                escaped = false
                continue
            }
            if inQuotes {
                if character == "\\" { escaped = true } else if character == "\"" { inQuotes = false }
                continue
            }
            switch character {
            case "\"": inQuotes = true
            case "@": at = index
            case " ", "\t", "\r", "\n", "<", ">", "(", ")", ",", ";", ":", "\\", "[", "]":
                if at == nil || character != "[" && character != "]" {
                    return "invalid character '\(character)' in the address"
                }
            default:
                if let scalar = character.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7F {
                    return "control character in the address"
                }
            }
        }
        if inQuotes { return "unterminated quoted string in the local part" }
        guard let at else { return "missing '@' and domain" }
        if at == address.startIndex { return "the local part is empty" }
        let domain = address[address.index(after: at)...]
        if domain.isEmpty { return "the domain is empty" }
        if domain.hasPrefix(".") || domain.hasSuffix(".") || domain.contains("..") {
            return "invalid domain '\(domain)'"
        }
        return nil
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool {
        (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
    }

    fileprivate var isASCIIDigit: Bool { value >= 0x30 && value <= 0x39 }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return self[start...end]
    }
}
