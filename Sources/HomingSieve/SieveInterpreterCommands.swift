import Foundation

/// The commands: actions, `set`, imap4flags, `include`/`return`/`global`.
extension SieveExecution {
    /// Performs one command that is not part of an `if` chain.
    func perform(_ command: SieveCommand) throws(SieveRuntimeError) -> SieveFlow {
        let arguments = SieveParsedArguments(arguments: command.arguments, ofCommandOrTest: command.name, isTest: false)
        let location = command.location
        switch command.name {
        case "require":
            return .next
        case "stop":
            return .stop
        case "return":
            return .returned
        case "keep":
            let flags = try actionFlags(arguments, at: location)
            let origin = origin(location)
            let header = state.headers.edited
            try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
                try builder.keep(flags: flags, at: origin, header: header)
            }
        case "discard":
            state.builder.discard(at: origin(location))
        case "fileinto":
            let mailbox = try expand(arguments.positionalString(0) ?? "", at: location)
            guard !mailbox.isEmpty else {
                throw SieveRuntimeError(at: location, "fileinto action: the folder name is empty")
            }
            let flags = try actionFlags(arguments, at: location)
            let create = arguments.has("create")
            let copy = arguments.has("copy")
            let origin = origin(location)
            let header = state.headers.edited
            try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
                try builder.fileInto(
                    mailbox: mailbox, flags: flags, create: create, copy: copy, at: origin, header: header)
            }
        case "redirect":
            let raw = try expand(arguments.positionalString(0) ?? "", at: location)
            guard let address = Self.redirectAddress(raw) else {
                throw SieveRuntimeError(at: location, "specified redirect address '\(raw)' is invalid")
            }
            let copy = arguments.has("copy")
            let origin = origin(location)
            let header = state.headers.edited
            try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
                try builder.redirect(address: address, copy: copy, at: origin, header: header)
            }
        case "reject", "ereject":
            let reason = try expand(arguments.positionalString(0) ?? "", at: location)
            let extended = command.name == "ereject"
            let origin = origin(location)
            try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
                try builder.reject(reason: reason, extended: extended, at: origin)
            }
        case "vacation":
            let request = try vacationRequest(arguments, at: location)
            let origin = origin(location)
            try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
                try builder.vacation(request, at: origin)
            }
        case "notify":
            try performNotify(arguments, at: location)
        case "addheader":
            try performAddHeader(arguments, at: location)
        case "deleteheader":
            try performDeleteHeader(arguments, at: location)
        case "break":
            return .breakLoop(arguments.string("name"))
        case "extracttext":
            try performExtractText(arguments, at: location)
        case "error":
            throw SieveRuntimeError(at: location, try expand(arguments.positionalString(0) ?? "", at: location))
        case "set":
            try performSet(arguments, at: location)
        case "setflag", "addflag", "removeflag":
            try performFlagCommand(command.name, arguments, at: location)
        case "global":
            for name in arguments.positionalStrings(0) ?? [] {
                guard SieveVariableReference.isIdentifier(name[...]) else {
                    throw SieveRuntimeError(at: location, "invalid variable name '\(name)' in global command")
                }
                frame.globalNames.insert(name.lowercased())
            }
        case "include":
            return try performInclude(arguments, at: location)
        default:
            throw SieveRuntimeError(at: location, "unknown command '\(command.name)'")
        }
        return .next
    }

    func record(
        at location: SieveSourceLocation,
        _ body: (inout SieveResultBuilder) throws(SieveResultConflict) -> Void
    ) throws(SieveRuntimeError) {
        do {
            try body(&state.builder)
        } catch {
            throw SieveRuntimeError(at: error.location ?? location, error.message)
        }
    }

    /// The flags of `keep`/`fileinto`: `:flags` when given, otherwise the internal variable
    /// (RFC 5232 section 5); none without imap4flags.
    private func actionFlags(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> [String]
    {
        guard frame.extensions.contains(.imap4flags) else { return [] }
        if let given = arguments.strings("flags") {
            return SieveFlags.normalize(try expand(given, at: location))
        }
        return internalFlags
    }

    // MARK: - redirect

    /// The address of `redirect`, trimmed, when it is a plain `local@domain` (RFC 5228
    /// section 4.2 asks for a valid address; display names and `<>` are not accepted).
    static func redirectAddress(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("<"), text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        guard let at = text.lastIndex(of: "@") else { return nil }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, local.utf8.count <= 64, domain.utf8.count <= 255 else {
            return nil
        }
        let quoted = local.hasPrefix("\"") && local.hasSuffix("\"") && local.count >= 2
        for scalar in local.unicodeScalars where !quoted {
            if scalar.value <= 0x20 || scalar.value == 0x7F || "()<>,;:\\\"[]".unicodeScalars.contains(scalar) {
                return nil
            }
        }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]") else { return nil }
        } else {
            for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
                guard !label.isEmpty,
                    label.unicodeScalars.allSatisfy({
                        $0.value > 0x7F || $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-"
                    })
                else { return nil }
            }
        }
        return text
    }

    // MARK: - vacation

    private func vacationRequest(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> SieveVacationRequest
    {
        let reason = try expand(arguments.positionalString(0) ?? "", at: location)
        var period = settings.vacationDefaultPeriod
        if let seconds = arguments.number("seconds") {
            period = seconds > UInt64(Int.max) ? Int.max : Int(seconds)
        } else if let days = arguments.number("days") {
            period = days > UInt64(Int.max / 86_400) ? Int.max : Int(days) * 86_400
        }
        period = settings.clampedVacationPeriod(period)
        let subject = try arguments.string("subject").map { (text) throws(SieveRuntimeError) in
            try expand(text, at: location)
        }
        let from = try arguments.string("from").map { (text) throws(SieveRuntimeError) in
            try expand(text, at: location)
        }
        let handle = try arguments.string("handle").map { (text) throws(SieveRuntimeError) in
            try expand(text, at: location)
        }
        let addresses = try expand(arguments.strings("addresses") ?? [], at: location)
        return SieveVacationRequest(
            reason: reason, subject: subject, from: from, addresses: addresses, mime: arguments.has("mime"),
            handle: handle, period: period)
    }

    // MARK: - set (RFC 5229 section 4)

    private func performSet(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError)
    {
        guard let name = arguments.positionalString(0), let rawValue = arguments.positionalString(1) else {
            throw SieveRuntimeError(at: location, "the set command needs a name and a value")
        }
        var value = try expand(rawValue, at: location)
        let modifiers = arguments.tagged.map(\.name).filter { SieveVariableModifier.precedence[$0] != nil }
        value = SieveVariableModifier.apply(modifiers, to: value)
        try assign(name, value, at: location)
    }

    // MARK: - imap4flags (RFC 5232 section 4)

    private func performFlagCommand(
        _ name: String, _ arguments: SieveParsedArguments, at location: SieveSourceLocation
    ) throws(SieveRuntimeError) {
        let variableName: String?
        let flagStrings: [String]
        if arguments.positional.count >= 2 {
            variableName = arguments.positionalString(0)
            flagStrings = arguments.positionalStrings(1) ?? []
        } else {
            variableName = nil
            flagStrings = arguments.positionalStrings(0) ?? []
        }
        let given = SieveFlags.normalize(try expand(flagStrings, at: location))
        let current: [String]
        if let variableName {
            current = SieveFlags.normalize([try variable(variableName, at: location)])
        } else {
            current = internalFlags
        }
        let updated: [String]
        switch name {
        case "setflag": updated = given
        case "addflag": updated = SieveFlags.union(current, given)
        default: updated = SieveFlags.removing(given, from: current)
        }
        if let variableName {
            try assign(variableName, updated.joined(separator: " "), at: location)
        } else {
            internalFlags = updated
        }
    }

    // MARK: - include (RFC 6609)

    private func performInclude(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> SieveFlow
    {
        guard let name = arguments.positionalString(0) else {
            throw SieveRuntimeError(at: location, "the include command needs a script name")
        }
        let place: SieveIncludeLocation = arguments.has("global") ? .global : .personal
        let key = IncludeKey(name: name, location: place)
        let described = "\(place == .global ? "global" : "personal") script '\(name)'"
        if includeStack.contains(key) {
            throw SieveRuntimeError(at: location, "include: circular include of \(described)")
        }
        if arguments.has("once"), included.contains(key) { return .next }
        if includeStack.count >= settings.maxIncludeDepth {
            throw SieveRuntimeError(
                at: location,
                "include: cannot include \(described): nesting exceeds the limit of \(settings.maxIncludeDepth)")
        }
        let script: SieveCompiledScript
        do {
            script = try environment.loadInclude(name: name, location: place)
        } catch {
            if arguments.has("optional") { return .next }
            // The inner error's text without its final period: this error's description adds one.
            let reason = error.description.hasSuffix(".") ? String(error.description.dropLast()) : error.description
            throw SieveRuntimeError(at: location, "include: failed to include \(described): \(reason)")
        }
        included.insert(key)
        includeStack.append(key)
        let saved = frame
        frame = Frame(extensions: script.extensions, name: name, scriptName: name, location: place)
        defer {
            frame = saved
            includeStack.removeLast()
        }
        // A `break` cannot leave the included script (validation keeps it inside its loops).
        let flow = try execute(script.script.commands)
        return flow == .stop ? .stop : .next
    }
}
