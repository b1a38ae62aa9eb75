/// RFC 5293: `addheader` and `deleteheader`, and RFC 5235: `spamtest` and `virustest`.
extension SieveExecution {
    /// `addheader [:last] <field-name> <value>`. A field the settings protect is left alone with
    /// a warning (RFC 5293 section 6: silently ignored).
    func performAddHeader(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError)
    {
        let name = try expand(arguments.positionalString(0) ?? "", at: location)
        let value = try expand(arguments.positionalString(1) ?? "", at: location)
        let shownName = SieveText.sanitized(name, maxOctets: 80)
        guard SieveValidator.isHeaderName(name) else {
            throw SieveRuntimeError(at: location, "addheader action: specified field name `\(shownName)' is invalid")
        }
        guard settings.editHeader.mayAdd(name) else {
            warn(location, "addheader action: adding specified header field `\(shownName)' is forbidden; modification denied")
            return
        }
        let shownValue = SieveText.sanitized(value, maxOctets: 80)
        if value.utf8.contains(0) {
            throw SieveRuntimeError(
                at: location, "addheader action: specified value `\(shownValue)' is invalid (contains NUL character)")
        }
        if value.utf8.count > settings.editHeader.maxHeaderSize {
            throw SieveRuntimeError(
                at: location,
                "addheader action: specified header value `\(shownValue)' is too large (\(value.utf8.count) bytes)")
        }
        // A hostile script (a loop over many parts, a long script) cannot grow the header
        // without bound: every copy a store or redirect keeps would hold it.
        if state.headers.addedCount >= Self.maxAddedFields || state.headers.addedOctets + value.utf8.count > Self.maxAddedOctets {
            throw SieveRuntimeError(
                at: location,
                "addheader action: too many header fields added (at most \(Self.maxAddedFields) fields or \(Self.maxAddedOctets) octets per message)"
            )
        }
        try spend(1 + state.headers.fields.count / SieveMatcher.stepsPerWorkUnit, at: location)
        state.headers.add(SieveHeaderField(name: name, rawValue: Self.unfolded(value)), last: arguments.has("last"))
    }

    /// The most fields `addheader` may add to one message.
    static let maxAddedFields = 1000
    /// The most octets (names and values) `addheader` may add to one message.
    static let maxAddedOctets = 1 << 20

    /// Charges `units` to the work budget.
    func spend(_ units: Int, at location: SieveSourceLocation) throws(SieveRuntimeError) {
        do {
            try state.budget.spend(units)
        } catch {
            throw runtime(error, at: location)
        }
    }

    /// `deleteheader [:index n [:last]] [COMPARATOR] [MATCH-TYPE] <field-name> [<value-patterns>]`.
    /// With patterns, the fields whose (decoded) value matches one, as the `header` test
    /// matches; with `:index`, only the n-th field of that name is considered (counted before
    /// matching, RFC 5293 section 5). `Received` and `Auto-Submitted` are never deleted.
    func performDeleteHeader(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError)
    {
        let name = try expand(arguments.positionalString(0) ?? "", at: location)
        let shownName = SieveText.sanitized(name, maxOctets: 80)
        guard SieveValidator.isHeaderName(name) else {
            throw SieveRuntimeError(at: location, "deleteheader action: specified field name `\(shownName)' is invalid")
        }
        guard settings.editHeader.mayDelete(name) else {
            warn(
                location, "deleteheader action: deleting specified header field `\(shownName)' is forbidden; modification denied")
            return
        }
        var index: Int?
        if let number = arguments.number("index"), number > 0 { index = Int(min(number, UInt64(Int32.max))) }
        let fromLast = arguments.has("last")
        let hasPatterns = arguments.positional.count > 1
        try spend(1 + state.headers.fields.count / SieveMatcher.stepsPerWorkUnit, at: location)
        var headers = state.headers
        try headers.delete(name, index: index, fromLast: fromLast) { (raw: String) throws(SieveRuntimeError) -> Bool in
            guard hasPatterns else { return true }
            return try match([Self.trimmedTrailing(SieveHeaderDecoder.decode(raw))], arguments, keyIndex: 1, at: location)
        }
        state.headers = headers
    }

    /// A value with its line breaks unfolded as Pigeonhole records added values: CR dropped, a
    /// line feed before a space becomes that space, before anything else a tab.
    static func unfolded(_ value: String) -> String {
        guard value.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
        var out = String.UnicodeScalarView()
        var scalars = value.unicodeScalars.makeIterator()
        var pendingBreak = false
        while let scalar = scalars.next() {
            if scalar == "\r" { continue }
            if scalar == "\n" {
                pendingBreak = true
                continue
            }
            if pendingBreak {
                out.append(scalar == " " ? " " : "\t")
                pendingBreak = false
                if scalar == " " || scalar == "\t" { continue }
            }
            out.append(scalar)
        }
        return String(out)
    }

    /// `spamtest [:percent]` / `virustest` (RFC 5235): the normalized verdict ("0" when the
    /// message was not tested) matched against the key; with `:count`, the count is 0 when the
    /// message was not tested and 1 when it was (RFC 5235 section 3.1).
    func evaluateScoreTest(_ name: String, _ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> Bool
    {
        let isVirus = name == "virustest"
        let configuration = isVirus ? settings.virusTest : settings.spamTest
        let fields = headerFields
        let ratio = configuration?.ratio { header in
            let lowered = header.lowercased()
            return fields.first { $0.name.lowercased() == lowered }.map {
                Self.trimmedTrailing(SieveHeaderDecoder.decode($0.rawValue))
            }
        }
        let value = SieveScoreTestSettings.value(
            ratio: ratio, test: isVirus ? .virustest : .spamtest, percent: arguments.has("percent"))
        if case .count? = arguments.matchType {
            return try match(ratio == nil ? [] : [value], arguments, keyIndex: 0, at: location)
        }
        return try match([value], arguments, keyIndex: 0, at: location)
    }
}
