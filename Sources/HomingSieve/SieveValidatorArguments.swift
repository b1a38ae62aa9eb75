/// Checking the arguments of a command or test, already split into tags and positional
/// arguments by `SieveParsedArguments(arguments:spec:)`, against its specification.
extension SieveValidator {
    /// Checks tags (order, known, extension required, not repeated, parameters) and positional
    /// arguments (count and types) of `parsed`; returns `parsed`.
    mutating func validateArguments(
        _ parsed: SieveParsedArguments, spec: SieveArgumentSpec, owner: String, location: SieveSourceLocation
    ) throws(SieveError) -> SieveParsedArguments {
        var seenGroups: [String: String] = [:]
        for tag in parsed.tagged {
            let tagName = tag.name
            if tag.followsPositional {
                throw SieveError(
                    .invalidArguments, at: tag.location,
                    "encountered an unexpected tagged argument ':\(tagName)' while validating positional arguments for the \(owner)"
                )
            }
            guard let tagSpec = spec.tags[tagName] else {
                // Reported once per command or test and tag, as Pigeonhole does.
                let key = "\(owner):\(tagName)"
                if reportedUnknownTags.contains(key) { throw Self.alreadyReported }
                reportedUnknownTags.insert(key)
                throw SieveError(
                    .invalidArguments, at: tag.location,
                    "unknown tagged argument ':\(tagName)' for the \(owner) (reported only once at first occurrence)")
            }
            if let needed = tagSpec.requires, !extensions.contains(needed) {
                if tagName == "percent" {
                    throw SieveError(
                        .invalidArguments, at: tag.location,
                        "the spamtest test only accepts the :percent argument when the spamtestplus extension is active"
                    )
                }
                throw SieveError(
                    .invalidArguments, at: tag.location,
                    "unknown tagged argument ':\(tagName)' for the \(owner) (only available after require :\(needed.rawValue))"
                )
            }
            if SieveArgumentSpec.mimeOptions[tagName] != nil || tagName == "anychild", !parsed.has("mime") {
                throw SieveError(
                    .invalidArguments, at: tag.location,
                    "the :\(tagName) tag for the \(owner) cannot be specified without the :mime tag")
            }
            if let earlier = seenGroups[tagSpec.group] {
                if tagSpec.group == "mime option" {
                    throw SieveError(
                        .invalidArguments, at: tag.location,
                        "the :type, :subtype, :contenttype, and :param arguments for the \(owner) are mutually exclusive, but more than one was specified"
                    )
                }
                let what = earlier == tagName ? ":\(tagName) argument" : "\(tagSpec.group) argument (:\(tagName))"
                throw SieveError(
                    .invalidArguments, at: tag.location, "encountered duplicate \(what) for the \(owner)")
            }
            seenGroups[tagSpec.group] = tagName
            if let expected = tagSpec.parameter {
                guard let parameter = tag.parameter else {
                    throw SieveError(
                        .invalidArguments, at: tag.location,
                        "the :\(tagName) tag for the \(owner) requires \(expected.type.article) as parameter, but no parameters were found"
                    )
                }
                guard Self.matches(parameter.value, expected.type) else {
                    throw SieveError(
                        .invalidArguments, at: parameter.location,
                        "the :\(tagName) tag for the \(owner) requires \(expected.type.article) as parameter, but \(Self.describe(parameter.value)) was found"
                    )
                }
                try checkTagParameter(tagName, parameter, owner: owner)
            }
        }
        for group in spec.requiredGroups where seenGroups[group] == nil {
            let names = spec.tags.filter { $0.value.group == group }.keys.sorted().map { ":" + $0 }
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires one of the tags \(names.joined(separator: " or "))")
        }
        let positional = parsed.positional
        let maximum = spec.positional.count
        let minimum = maximum - spec.optionalLeadingPositional - spec.optionalTrailingPositional
        if positional.isEmpty, minimum > 0, spec.optionalTrailingPositional > 0 {
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) expects at least one positional argument, but none was found")
        }
        guard positional.count >= minimum, positional.count <= maximum else {
            let required = minimum == maximum ? "\(maximum)" : "\(minimum) or \(maximum)"
            throw SieveError(
                .invalidArguments,
                at: positional.count > maximum ? positional[maximum].location : location,
                "the \(owner) requires \(required) positional argument(s), but \(positional.count) is/are specified"
            )
        }
        // Left-out leading arguments: the given ones are the last ones; left-out trailing ones:
        // the given ones are the first ones.
        let expectedTypes =
            spec.optionalLeadingPositional > 0
            ? Array(spec.positional.suffix(positional.count)) : Array(spec.positional.prefix(positional.count))
        for (offset, (argument, expected)) in zip(positional, expectedTypes).enumerated()
        where !Self.matches(argument.value, expected.type) {
            throw SieveError(
                .invalidArguments, at: argument.location,
                "the \(owner) expects \(expected.type.article) as argument \(offset + 1) (\(expected.name)), "
                    + "but \(Self.describe(argument.value)) was found")
        }
        return parsed
    }

    /// Checks the test part of a command or test against what it takes: none, one test or a
    /// list. A test where none is allowed is, as Pigeonhole words it, a tag without its colon,
    /// a spurious test, or (a command or unknown name) a missing semicolon.
    func checkTestPart(
        _ tests: SieveTestArguments, spec: SieveArgumentSpec, tags: [String: SieveArgumentSpec.Tag], owner: String,
        location: SieveSourceLocation
    ) throws(SieveError) {
        switch (spec.tests, tests) {
        case (.none, .none), (.single, .single), (.list, .list):
            return
        case (.none, .single(let given)), (.none, .list(let given)):
            guard let first = given.first else { return }
            if tags[first.name] != nil {
                throw SieveError(
                    .syntax, at: first.location, "missing colon ':' before ':\(first.name)' tag in \(owner)")
            }
            if SieveArgumentSpec.knownTests.contains(first.name) {
                throw SieveError(
                    .invalidArguments, at: location, "the \(owner) accepts no sub-tests, but tests are specified")
            }
            throw SieveError(.syntax, at: location, "missing semicolon ';' after \(owner)")
        case (.single, .none):
            throw SieveError(
                .invalidArguments, at: location, "the \(owner) requires one sub-test, but none is specified")
        case (.single, .list):
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires one sub-test, but a list of tests is specified")
        case (.list, .none):
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires a list of sub-tests, but none is specified")
        case (.list, .single):
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires a list of sub-tests, but a single test is specified")
        }
    }

    static func matches(_ value: SieveArgument.Value, _ type: SieveArgumentSpec.ValueType) -> Bool {
        switch (value, type) {
        case (.string, .string), (.string, .stringList), (.stringList, .stringList), (.number, .number):
            return true
        default: return false
        }
    }

    static func describe(_ value: SieveArgument.Value) -> String {
        switch value {
        case .string: return "a string"
        case .stringList: return "a string list"
        case .number: return "a number"
        case .tag(let name): return "a tag (:\(name))"
        }
    }
}
