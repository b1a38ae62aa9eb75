import Foundation

/// The tests.
extension SieveExecution {
    /// Evaluates `test`.
    func evaluate(_ test: SieveTest) throws(SieveRuntimeError) -> Bool {
        let arguments = SieveParsedArguments(arguments: test.arguments, ofCommandOrTest: test.name, isTest: true)
        let location = test.location
        switch test.name {
        case "true":
            return true
        case "false":
            return false
        case "not":
            guard let inner = test.tests.tests.first else { return false }
            return try !evaluate(inner)
        case "allof":
            for inner in test.tests.tests where try !evaluate(inner) { return false }
            return true
        case "anyof":
            for inner in test.tests.tests where try evaluate(inner) { return true }
            return false
        case "exists":
            let names = try expand(arguments.positionalStrings(0) ?? [], at: location)
            let sets = try headerSets(arguments, at: location)
            return names.allSatisfy { name in
                sets.contains { fields in fields.contains { $0.name.lowercased() == name.lowercased() } }
            }
        case "size":
            let limit = arguments.positionalNumber(0) ?? 0
            let size = UInt64(max(0, message.size))
            return arguments.has("over") ? size > limit : size < limit
        case "header":
            let names = try expand(arguments.positionalStrings(0) ?? [], at: location)
            var values: [String] = []
            if arguments.has("mime") {
                values = try mimeHeaderValues(names, arguments, at: location)
            } else {
                for name in names {
                    for raw in headerValues(name, arguments: arguments) {
                        values.append(Self.trimmedTrailing(SieveHeaderDecoder.decode(raw)))
                    }
                }
            }
            return try match(values, arguments, keyIndex: 1, at: location)
        case "address":
            let names = try expand(arguments.positionalStrings(0) ?? [], at: location)
            var values: [String] = []
            let sets = try headerSets(arguments, at: location)
            for name in names {
                for raw in sets.flatMap({ headerValues(name, in: $0, arguments: arguments) }) {
                    for entry in SieveAddressList.parse(raw) {
                        if let part = addressPart(
                            local: entry.localPart, domain: entry.domain, raw: entry.raw, arguments.addressPart)
                        {
                            values.append(part)
                        }
                    }
                }
            }
            return try match(values, arguments, keyIndex: 1, at: location)
        case "envelope":
            let parts = try expand(arguments.positionalStrings(0) ?? [], at: location)
            var values: [String] = []
            for part in parts {
                guard let address = envelopeAddress(part.lowercased()) else { continue }
                if let value = envelopePart(address, arguments.addressPart) { values.append(value) }
            }
            return try match(values, arguments, keyIndex: 1, at: location)
        case "string":
            let sources = try expand(arguments.positionalStrings(0) ?? [], at: location)
            if case .count = arguments.matchType {
                // RFC 5229 section 5: empty strings are not counted.
                return try match(sources.filter { !$0.isEmpty }, arguments, keyIndex: 1, at: location)
            }
            return try match(sources, arguments, keyIndex: 1, at: location)
        case "hasflag":
            var flags: [String]
            if arguments.positional.count >= 2 {
                flags = []
                for name in arguments.positionalStrings(0) ?? [] {
                    flags = SieveFlags.union(flags, [try variable(name, at: location)])
                }
            } else {
                flags = internalFlags
            }
            return try match(flags, arguments, keyIndex: arguments.positional.count >= 2 ? 1 : 0, at: location)
        case "body":
            let transform: SieveBodyTransform
            if arguments.has("raw") {
                transform = .raw
            } else if let types = arguments.strings("content") {
                transform = .content(try expand(types, at: location))
            } else {
                transform = .text
            }
            let texts: [String]
            do {
                texts = try message.bodyTexts(transform)
            } catch {
                throw SieveRuntimeError(at: location, "body test: \(error.message)")
            }
            return try match(texts, arguments, keyIndex: 0, at: location)
        case "date":
            return try evaluateDate(arguments, current: false, at: location)
        case "currentdate":
            return try evaluateDate(arguments, current: true, at: location)
        case "mailboxexists":
            let names = try expand(arguments.positionalStrings(0) ?? [], at: location)
            return names.allSatisfy { environment.mailboxExists($0) }
        case "environment":
            let name = try expand(arguments.positionalString(0) ?? "", at: location)
            guard let value = environment.environmentItems[name.lowercased()] else { return false }
            return try match([value], arguments, keyIndex: 1, at: location)
        case "duplicate":
            return try evaluateDuplicate(arguments, at: location)
        case "valid_notify_method":
            return try evaluateValidNotifyMethod(arguments, at: location)
        case "notify_method_capability":
            return try evaluateNotifyMethodCapability(arguments, at: location)
        case "ihave":
            // Compile-time: only available capabilities were loaded; variables and
            // encoded-character never count (RFC 5463 section 4).
            let names = arguments.positionalStrings(0) ?? []
            return names.allSatisfy { name in
                if SieveValidator.builtInComparatorCapabilities.contains(name) { return true }
                guard let known = SieveExtension(rawValue: name) else { return false }
                return known != .variables && known != .encodedCharacter && frame.extensions.contains(known)
            }
        case "spamtest", "virustest":
            return try evaluateScoreTest(test.name, arguments, at: location)
        default:
            throw SieveRuntimeError(at: location, "unknown test '\(test.name)'")
        }
    }

    // MARK: - Matching

    /// Matches `values` against the keys at positional `keyIndex` under the test's match type
    /// and comparator; sets the match variables on success of `:matches`/`:regex`.
    func match(
        _ values: [String], _ arguments: SieveParsedArguments, keyIndex: Int, at location: SieveSourceLocation
    ) throws(SieveRuntimeError) -> Bool {
        let keys = try expand(arguments.positionalStrings(keyIndex) ?? [], at: location)
        guard let type = arguments.matchType else {
            throw SieveRuntimeError(at: location, "invalid relational operator")
        }
        guard let comparator = arguments.comparator else {
            throw SieveRuntimeError(at: location, "unknown comparator '\(arguments.string("comparator") ?? "")'")
        }
        if case .count(let relation) = type {
            return keys.contains {
                SieveMatcher.matchCount(values.count, key: $0, relation: relation, comparator: comparator)
            }
        }
        do {
            for value in values {
                for key in keys {
                    guard
                        let captures = try SieveMatcher.match(
                            value, key: key, type: type, comparator: comparator, budget: &state.budget,
                            maxSubjectOctets: settings.maxMatchSubjectSize)
                    else { continue }
                    switch type {
                    case .matches, .regex:
                        frame.matchValues = captures.map { SieveVariableStore.bounded($0) }
                    default:
                        break
                    }
                    return true
                }
            }
        } catch {
            throw runtime(error, at: location)
        }
        return false
    }

    // MARK: - Headers and addresses

    /// The raw values of the current header fields named `name`, narrowed by `:index`/`:last`.
    func headerValues(_ name: String, arguments: SieveParsedArguments) -> [String] {
        headerValues(name, in: headerFields, arguments: arguments)
    }

    /// The raw values of the fields of `fields` named `name`, narrowed by `:index`/`:last`.
    func headerValues(_ name: String, in fields: [SieveHeaderField], arguments: SieveParsedArguments) -> [String] {
        let lowered = name.lowercased()
        let values = fields.filter { $0.name.lowercased() == lowered }.map(\.rawValue)
        guard let index = arguments.index else { return values }
        guard index.number >= 1, index.number <= UInt64(values.count) else { return [] }
        let position = Int(index.number) - 1
        return [index.last ? values[values.count - 1 - position] : values[position]]
    }

    /// The address part `part` of an address; `nil` when the part does not exist (invalid
    /// address for anything but `:all`, no detail without a delimiter).
    func addressPart(local: String?, domain: String?, raw: String, _ part: String) -> String? {
        guard let local else { return part == "all" ? raw.trimmingCharacters(in: .whitespaces) : nil }
        switch part {
        case "localpart": return local
        case "domain": return domain
        case "user", "detail":
            let delimiters = Set(settings.recipientDelimiter)
            guard !delimiters.isEmpty, let split = local.firstIndex(where: { delimiters.contains($0) }) else {
                return part == "user" ? local : nil
            }
            return part == "user" ? String(local[..<split]) : String(local[local.index(after: split)...])
        default:
            let written = Self.quotedLocalPart(local)
            guard let domain else { return written }
            return "\(written)@\(domain)"
        }
    }

    /// A local part as `:all` shows it (RFC 5322 section 3.4.1): as is when it is a dot-atom,
    /// otherwise as a quoted string (`"john smith"`), as Pigeonhole writes addresses.
    static func quotedLocalPart(_ local: String) -> String {
        let specials: Set<Unicode.Scalar> = ["(", ")", "<", ">", "[", "]", ":", ";", "@", "\\", ",", "\"", "."]
        let isAtom: (Substring) -> Bool = { atom in
            !atom.isEmpty
                && atom.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !specials.contains($0) }
        }
        if local.isEmpty || local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isAtom) {
            return local
        }
        var quoted = "\""
        for character in local {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// The envelope address named `part` (`from`, `to`, `auth`, `orig_to`), `nil` when unknown
    /// or absent.
    private func envelopeAddress(_ part: String) -> String? {
        switch part {
        case "from": return envelope.from
        case "to": return envelope.to
        case "auth": return envelope.authUser
        case "orig_to": return envelope.originalRecipient
        default: return nil
        }
    }

    /// An address part of an envelope address. The null sender `<>` is `""` for `:all` and has
    /// no other part.
    private func envelopePart(_ address: String, _ part: String) -> String? {
        var text = address.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("<"), text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        if text.isEmpty { return part == "all" ? "" : nil }
        guard let at = text.lastIndex(of: "@") else {
            return addressPart(local: text, domain: nil, raw: text, part)
        }
        var local = String(text[..<at])
        if local.count >= 2, local.hasPrefix("\""), local.hasSuffix("\"") {
            local = String(local.dropFirst().dropLast())
        }
        return addressPart(local: local, domain: String(text[text.index(after: at)...]), raw: text, part)
    }

    static func trimmedTrailing(_ text: String) -> String {
        var result = Substring(text)
        while let last = result.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            result = result.dropLast()
        }
        return String(result)
    }

    // MARK: - date / currentdate (RFC 5260)

    private func evaluateDate(_ arguments: SieveParsedArguments, current: Bool, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> Bool
    {
        let partIndex = current ? 0 : 1
        let datePart = try expand(arguments.positionalString(partIndex) ?? "", at: location).lowercased()
        var zone: Int?
        if let zoneText = arguments.string("zone") {
            guard let parsed = SieveDateTime.parseZone(try expand(zoneText, at: location)) else { return false }
            zone = parsed
        }
        var dates: [SieveDateTime] = []
        if current {
            let now = environment.now
            dates = [SieveDateTime(date: now, zoneOffset: zone ?? Self.localOffset(at: now))]
        } else {
            let header = try expand(arguments.positionalString(0) ?? "", at: location)
            for raw in headerValues(header, arguments: arguments) {
                var text = raw
                if header.lowercased() == "received", let semicolon = raw.lastIndex(of: ";") {
                    text = String(raw[raw.index(after: semicolon)...])
                }
                guard let parsed = SieveDateTime.parse(text.trimmingCharacters(in: .whitespaces)) else {
                    continue
                }
                if arguments.has("originalzone") {
                    dates.append(parsed)
                } else {
                    dates.append(parsed.converted(toZoneOffset: zone ?? Self.localOffset(at: parsed.date)))
                }
            }
        }
        if !SieveValidator.dateParts.contains(datePart) {
            warn(location, "specified date part argument `\(datePart)' is not known")
            return false
        }
        var values: [String] = []
        for date in dates {
            guard let value = date.part(datePart) else { return false }
            values.append(value)
        }
        return try match(values, arguments, keyIndex: partIndex + 1, at: location)
    }

    private static func localOffset(at date: Date) -> Int {
        TimeZone.current.secondsFromGMT(for: date)
    }

    // MARK: - duplicate (RFC 7352)

    /// How long a `duplicate` mark is kept without `:seconds` (Pigeonhole's
    /// `sieve_duplicate_default_period`, 14 days).
    static let duplicateDefaultPeriod = 14 * 86_400

    private func evaluateDuplicate(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> Bool
    {
        let handle = try expand(arguments.string("handle") ?? "", at: location)
        let value: String
        if let uniqueID = arguments.string("uniqueid") {
            value = try expand(uniqueID, at: location)
        } else {
            let header = try expand(arguments.string("header") ?? "Message-ID", at: location)
            guard let raw = headerValues(header, arguments: SieveParsedArguments(tagged: [], positional: [])).first
            else { return false }
            value = raw.trimmingCharacters(in: .whitespaces)
        }
        // RFC 7352 section 3: no value (missing header) means not a duplicate and nothing tracked.
        guard !value.isEmpty else { return false }
        let key = Self.duplicateKey(handle: handle, value: value)
        let duplicate = environment.isDuplicate(key: key)
        var period = Self.duplicateDefaultPeriod
        if let seconds = arguments.number("seconds") {
            period = seconds > UInt64(Int.max) ? Int.max : Int(seconds)
        }
        if !duplicate || arguments.has("last") {
            state.builder.mark(SieveDuplicateMark(key: key, period: period))
        }
        return duplicate
    }

    /// The tracking key of a `duplicate` test: the handle's length, the handle and the value, so
    /// that no two (handle, value) pairs give the same key.
    static func duplicateKey(handle: String, value: String) -> String {
        "\(handle.utf8.count):\(handle):\(value)"
    }
}
