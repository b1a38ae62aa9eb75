/// RFC 5703: `foreverypart`, `extracttext` and the `:mime` tests.
extension SieveExecution {
    /// The message's MIME parts (parsed once per run).
    func mimeParts(at location: SieveSourceLocation) throws(SieveRuntimeError) -> SieveMIMEPartList {
        if let parts = state.parts { return parts }
        do {
            let structure = try message.mimeStructure()
            let parts = SieveMIMEPartList(body: structure.body, root: structure.root)
            state.parts = parts
            return parts
        } catch {
            throw SieveRuntimeError(at: location, "failed to read the message: \(error.message)")
        }
    }

    /// `foreverypart`: the block once per part (RFC 5703 section 3.1): every part of the
    /// message, the message itself first, or in a nested loop the parts inside the outer
    /// loop's current part. `break` leaves the innermost loop or the one it names.
    func runForEveryPart(_ command: SieveCommand) throws(SieveRuntimeError) -> SieveFlow {
        let arguments = SieveParsedArguments(arguments: command.arguments, ofCommandOrTest: "foreverypart", isTest: false)
        let name = arguments.string("name")
        let parts = try mimeParts(at: command.location)
        let range: Range<Int>
        if let outer = loops.last {
            range = (outer.part + 1)..<parts.parts[outer.part].end
        } else {
            range = 0..<parts.parts.count
        }
        for index in range {
            try spend(1, at: command.location)
            loops.append(Loop(name: name, part: index))
            let flow = try execute(command.block ?? [])
            loops.removeLast()
            switch flow {
            case .next:
                continue
            case .breakLoop(let target):
                if target == nil || target == name { return .next }
                return flow
            case .stop, .returned:
                return flow
            }
        }
        return .next
    }

    /// `extracttext [MODIFIER] [:first number] <varname>` (RFC 5703 section 7): the current
    /// part's text, cut to `:first` characters (Pigeonhole cuts octets, which can split a
    /// character), modifiers applied.
    func performExtractText(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError)
    {
        guard let name = arguments.positionalString(0), let loop = loops.last else {
            throw SieveRuntimeError(at: location, "extracttext is used outside a foreverypart loop")
        }
        var text = try mimeParts(at: location).text(of: loop.part)
        if let first = arguments.number("first"), UInt64(text.unicodeScalars.count) > first {
            text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(Int(first))))
        }
        let modifiers = arguments.tagged.map(\.name).filter { SieveVariableModifier.precedence[$0] != nil }
        try assign(name, SieveVariableModifier.apply(modifiers, to: text), at: location)
    }

    /// The header field sets a `header`, `address` or `exists` test looks at: the message's
    /// header; with `:mime`, the current `foreverypart` part (the message when outside a
    /// loop), and with `:anychild` its parts too.
    func headerSets(_ arguments: SieveParsedArguments, at location: SieveSourceLocation) throws(SieveRuntimeError)
        -> [[SieveHeaderField]]
    {
        guard arguments.has("mime") else { return [headerFields] }
        let current = loops.last?.part ?? 0
        let anyChild = arguments.has("anychild")
        if current == 0, !anyChild { return [headerFields] }
        let parts = try mimeParts(at: location)
        let range = anyChild ? current..<parts.parts[current].end : current..<(current + 1)
        // The message itself is seen with the script's header edits.
        return range.map { $0 == 0 ? headerFields : parts.parts[$0].entity.headerFields }
    }

    /// The values `header :mime` matches: decoded (RFC 2047), or with an option the part of
    /// `Content-Type`/`Content-Disposition` it names.
    func mimeHeaderValues(_ names: [String], _ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> [String]
    {
        var option: SieveMIMEHeaderOption?
        if arguments.has("type") {
            option = .type
        } else if arguments.has("subtype") {
            option = .subtype
        } else if arguments.has("contenttype") {
            option = .contentType
        } else if let parameters = arguments.strings("param") {
            option = .parameters(try expand(parameters, at: location))
        }
        var values: [String] = []
        for fields in try headerSets(arguments, at: location) {
            for name in names {
                for raw in headerValues(name, in: fields, arguments: arguments) {
                    let decoded = Self.trimmedTrailing(SieveHeaderDecoder.decode(raw))
                    if let option {
                        values += option.values(name: name, value: decoded)
                    } else {
                        values.append(decoded)
                    }
                }
            }
        }
        return values
    }
}
