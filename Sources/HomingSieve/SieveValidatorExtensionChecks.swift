/// Compile-time checks of enotify (RFC 5435/5436), editheader (RFC 5293), foreverypart and
/// extracttext (RFC 5703) and ihave (RFC 5463), with Pigeonhole's messages.
extension SieveValidator {
    // MARK: - notify

    /// As Pigeonhole: `:importance` must be "1", "2" or "3"; a constant method URI must name the
    /// `mailto` method and parse; a constant `:from` must be an address; constant `:options`
    /// must have the `name=value` form (and `mailto` takes none: a warning). A method URI with
    /// variables defers every check to run time.
    mutating func checkNotify(_ command: SieveCommand, _ parsed: SieveParsedArguments) throws(SieveError) {
        if let importance = parsed.parameter("importance"), case .string(let text) = importance.value,
            !["1", "2", "3"].contains(text)
        {
            throw SieveError(
                .invalidValue, at: importance.location, "invalid :importance value for notify command: \(text)")
        }
        guard let method = parsed.positional.first, let uri = constant(method) else { return }
        guard let (scheme, body) = SieveMailtoURI.scheme(of: uri) else {
            throw SieveError(
                .invalidValue, at: method.location,
                "notify command: invalid scheme part for method URI '\(SieveText.sanitized(uri, maxOctets: 80))'")
        }
        guard scheme.lowercased() == "mailto" else {
            // RFC 5435 section 3.2: an unsupported method is an error at run time (scripts
            // guard it with valid_notify_method); Pigeonhole refuses it here.
            warn(
                method.location,
                "notify command: notification method '\(scheme)' is not supported; the notify action fails if it runs")
            return
        }
        do throws(SieveMailtoURI.Problem) {
            for warning in try SieveMailtoURI.parse(body).warnings {
                warn(method.location, "notify command: mailto URI: \(warning)")
            }
        } catch {
            throw SieveError(.invalidValue, at: method.location, "notify command: mailto URI: \(error.message)")
        }
        if let from = parsed.parameter("from"), let address = constant(from),
            let problem = Self.addressProblem(address)
        {
            throw SieveError(
                .invalidValue, at: from.location,
                "notify command: specified :from address '\(SieveText.sanitized(address, maxOctets: 128))' is invalid for the mailto method: \(problem)"
            )
        }
        if let options = parsed.parameter("options") {
            for option in options.strings ?? [] {
                let literal = !containsVariables(option)
                if let problem = SieveNotifyOption.problem(option, nameOnly: !literal), literal {
                    throw SieveError(.invalidValue, at: options.location, "notify command: \(problem)")
                }
            }
            warn(options.location, "notify command: method '\(scheme)' accepts no options")
        }
    }

    // MARK: - editheader

    mutating func checkAddHeader(_ parsed: SieveParsedArguments) throws(SieveError) {
        if let nameArgument = parsed.positional.first, let name = constant(nameArgument) {
            guard Self.isHeaderName(name) else {
                throw SieveError(
                    .invalidValue, at: nameArgument.location,
                    "addheader command: specified field name `\(SieveText.sanitized(name, maxOctets: 80))' is invalid")
            }
            if !editHeader.mayAdd(name) {
                warn(
                    nameArgument.location,
                    "addheader command: adding specified header field `\(SieveText.sanitized(name, maxOctets: 80))' is forbidden; modification will be denied"
                )
            }
        }
        guard parsed.positional.count > 1, let value = constant(parsed.positional[1]) else { return }
        let location = parsed.positional[1].location
        let shown = SieveText.sanitized(value, maxOctets: 80)
        if value.utf8.contains(0) {
            throw SieveError(
                .invalidValue, at: location, "addheader command: specified value `\(shown)' is invalid (contains NUL character)")
        }
        if !SieveHeaderEncoding.isFieldBody(value) {
            warn(location, "addheader command: specified value `\(shown)' is invalid")
        }
        if value.utf8.count > editHeader.maxHeaderSize {
            throw SieveError(
                .invalidValue, at: location,
                "addheader command: specified header value `\(shown)' is too large (\(value.utf8.count) bytes)")
        }
    }

    mutating func checkDeleteHeader(_ parsed: SieveParsedArguments, location: SieveSourceLocation) throws(SieveError) {
        if let last = parsed.tag("last"), !parsed.has("index") {
            // RFC 5293 section 5: an error (Pigeonhole reports it but keeps the script).
            throw SieveError(
                .invalidArguments, at: last.location,
                "the :last tag for the deleteheader command cannot be specified without the :index tag")
        }
        if let index = parsed.parameter("index"), case .number(let number) = index.value, number > UInt64(Int32.max) {
            throw SieveError(
                .invalidValue, at: index.location,
                "the :index tag for the deleteheader command has a parameter value '\(number)' exceeding the maximum (\(Int32.max))"
            )
        }
        if let nameArgument = parsed.positional.first, let name = constant(nameArgument) {
            guard Self.isHeaderName(name) else {
                throw SieveError(
                    .invalidValue, at: nameArgument.location,
                    "deleteheader command: specified field name `\(SieveText.sanitized(name, maxOctets: 80))' is invalid")
            }
            if !editHeader.mayDelete(name) {
                warn(
                    nameArgument.location,
                    "deleteheader command: deleting specified header field `\(SieveText.sanitized(name, maxOctets: 80))' is forbidden; modification will be denied"
                )
            }
        }
        if parsed.positional.count > 1 {
            try checkComparatorAndMatchType(parsed, owner: "deleteheader command", location: location)
        }
    }

    // MARK: - foreverypart, break, extracttext

    func checkForEveryPart(_ parsed: SieveParsedArguments, location: SieveSourceLocation) throws(SieveError) {
        if let name = parsed.parameter("name"), constant(name) == nil {
            throw SieveError(
                .invalidValue, at: name.location,
                "the :name tag for the foreverypart command requires a constant string as parameter")
        }
        if loops.count + 1 > Self.maxLoopDepth {
            throw SieveError(
                .nestingTooDeep, at: location,
                "the nested foreverypart loop exceeds the nesting limit (<= \(Self.maxLoopDepth) levels)")
        }
    }

    func checkBreak(_ parsed: SieveParsedArguments, location: SieveSourceLocation) throws(SieveError) {
        if let nameArgument = parsed.parameter("name") {
            guard let name = constant(nameArgument) else {
                throw SieveError(
                    .invalidValue, at: nameArgument.location,
                    "the :name tag for the break command requires a constant string as parameter")
            }
            if !loops.contains(.some(name)) {
                throw SieveError(
                    .misplacedCommand, at: location,
                    "the break command is not placed inside a foreverypart loop named `\(name)'")
            }
        } else if loops.isEmpty {
            throw SieveError(
                .misplacedCommand, at: location, "the break command is not placed inside a foreverypart loop")
        }
    }

    func checkExtractText(_ parsed: SieveParsedArguments, location: SieveSourceLocation) throws(SieveError) {
        try checkModifiers(parsed, owner: "extracttext command")
        if let name = parsed.positional.first {
            try checkVariableNameArgument(name, owner: "extracttext command")
        }
        if loops.isEmpty {
            throw SieveError(
                .misplacedCommand, at: location, "the extracttext command is not placed inside a foreverypart loop")
        }
    }

    // MARK: - ihave

    /// RFC 5463: `ihave` naming only available capabilities loads them (as `require` does,
    /// from here on) and depends on nothing else: not constant. Naming one that is not
    /// available, or `variables` or `encoded-character` (section 4: they change how the script
    /// itself is read), makes it constant false: the block it guards is never run, and not
    /// checked.
    mutating func checkIHave(_ parsed: SieveParsedArguments) throws(SieveError) -> Constant {
        guard let argument = parsed.positional.first, let names = argument.strings else { return nil }
        // RFC 5463 section 4: "It is an error to pass a non-constant string".
        for name in names where containsVariables(name) {
            throw SieveError(
                .invalidValue, at: argument.location,
                "ihave test: the capabilities must be constant strings, but '\(name)' contains variables")
        }
        var found: [SieveExtension] = []
        for name in names {
            if Self.builtInComparatorCapabilities.contains(name) { continue }
            guard let known = SieveExtension(rawValue: name), available.allows(known, in: scope) else {
                return false
            }
            found.append(known)
        }
        if found.contains(.variables) || found.contains(.encodedCharacter) { return false }
        extensions.formUnion(found)
        if extensions.contains(.vacationSeconds) { extensions.insert(.vacation) }
        return nil
    }
}

/// A notify `:options` entry (RFC 5435 section 3.4): `optionname=value`, `optionname` being a
/// letter or digit followed by letters, digits, `.`, `-` or `_`, the value any characters but
/// CR and LF.
enum SieveNotifyOption {
    /// Why `option` is not well-formed, or `nil` when it is. With `nameOnly`, only the part
    /// before `=` is checked (the value may still come from variables).
    static func problem(_ option: String, nameOnly: Bool) -> String? {
        if option.isEmpty { return "empty option specified" }
        let bytes = Array(option.utf8)
        var index = 0
        func isAlnum(_ byte: UInt8) -> Bool {
            ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
        if isAlnum(bytes[0]) {
            index = 1
            while index < bytes.count,
                isAlnum(bytes[index]) || "._-".utf8.contains(bytes[index])
            {
                index += 1
            }
        }
        guard index > 0, index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
            return "invalid option name specified in option '\(SieveText.sanitized(option, maxOctets: 80))'"
        }
        if nameOnly { return nil }
        if bytes[(index + 1)...].contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            return "invalid option value specified in option '\(SieveText.sanitized(option, maxOctets: 80))'"
        }
        return nil
    }
}
