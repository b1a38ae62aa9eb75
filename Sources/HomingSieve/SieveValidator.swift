/// Checks a parsed script against RFC 5228: `require` first and naming known extensions,
/// commands and tests known and their extensions required, and argument counts and types.
///
/// Commands and tests of extensions beyond the core ones (`vacation`, `set`, `body`...) are
/// checked by name only for now.
public struct SieveValidator: Sendable {
    private var extensions: Set<SieveExtension> = []

    /// Creates a validator.
    public init() {}

    /// Validates `script` and returns the extensions it requires, or the first error.
    public static func validate(_ script: SieveScript) throws(SieveError) -> Set<SieveExtension> {
        var validator = SieveValidator()
        try validator.validateTopLevel(script.commands)
        return validator.extensions
    }

    // MARK: - Commands

    private mutating func validateTopLevel(_ commands: [SieveCommand]) throws(SieveError) {
        var requiresAllowed = true
        for command in commands {
            if command.name == "require" {
                guard requiresAllowed else { throw misplacedRequire(command) }
                try validateRequire(command)
            } else {
                requiresAllowed = false
            }
        }
        try validateList(commands, topLevel: true)
    }

    private func misplacedRequire(_ command: SieveCommand) -> SieveError {
        SieveError(
            .misplacedCommand, at: command.location,
            "require commands can only be placed at top level at the beginning of the file")
    }

    private mutating func validateRequire(_ command: SieveCommand) throws(SieveError) {
        try validateShape(command)
        guard let argument = command.arguments.first, let names = argument.strings else { return }
        for name in names {
            guard let known = SieveExtension(rawValue: name) else {
                throw SieveError(
                    .unknownExtension, at: argument.location,
                    "require command: unknown Sieve capability '\(name)'")
            }
            extensions.insert(known)
        }
    }

    private mutating func validateList(_ commands: [SieveCommand], topLevel: Bool) throws(SieveError) {
        var previous: String?
        for command in commands {
            if command.name == "require" {
                if !topLevel { throw misplacedRequire(command) }
            } else {
                try validateCommand(command, previous: previous)
            }
            previous = command.name
        }
    }

    private mutating func validateCommand(_ command: SieveCommand, previous: String?)
        throws(SieveError)
    {
        let name = command.name
        if !SieveArgumentSpec.knownCommands.contains(name) {
            if SieveArgumentSpec.knownTests.contains(name) {
                throw SieveError(
                    .unknownCommand, at: command.location, "attempted to use test '\(name)' as command")
            }
            throw SieveError(.unknownCommand, at: command.location, "unknown command '\(name)'")
        }
        if let needed = SieveExtension.requiredForCommand(name), !extensions.contains(needed) {
            throw SieveError(
                .unknownCommand, at: command.location,
                "unknown command '\(name)' (only available after require :\(needed.rawValue))")
        }
        if name == "elsif" || name == "else", previous != "if", previous != "elsif" {
            throw SieveError(
                .misplacedCommand, at: command.location,
                "the \(name) command must follow an if or elsif command")
        }
        try validateShape(command)
        for test in command.tests.tests {
            try validateTest(test)
        }
        if let block = command.block {
            try validateList(block, topLevel: false)
        }
    }

    private func validateShape(_ command: SieveCommand) throws(SieveError) {
        guard let spec = SieveArgumentSpec.command(command.name) else { return }
        let owner = "\(command.name) command"
        try validateArguments(command.arguments, spec: spec, owner: owner, location: command.location)
        try validateTestPart(command.tests, spec: spec, owner: owner, location: command.location)
        if spec.block, command.block == nil {
            throw SieveError(
                .invalidArguments, at: command.location, "the \(owner) requires a block '{ ... }'")
        }
        if !spec.block, command.block != nil {
            throw SieveError(
                .invalidArguments, at: command.location, "the \(owner) does not take a block")
        }
    }

    // MARK: - Tests

    private func validateTest(_ test: SieveTest) throws(SieveError) {
        let name = test.name
        if !SieveArgumentSpec.knownTests.contains(name) {
            if SieveArgumentSpec.knownCommands.contains(name) {
                throw SieveError(
                    .unknownCommand, at: test.location, "attempted to use command '\(name)' as test")
            }
            throw SieveError(.unknownCommand, at: test.location, "unknown test '\(name)'")
        }
        if let needed = SieveExtension.requiredForTest(name), !extensions.contains(needed) {
            throw SieveError(
                .unknownCommand, at: test.location,
                "unknown test '\(name)' (only available after require :\(needed.rawValue))")
        }
        if let spec = SieveArgumentSpec.test(name) {
            let owner = "\(name) test"
            try validateArguments(test.arguments, spec: spec, owner: owner, location: test.location)
            try validateTestPart(test.tests, spec: spec, owner: owner, location: test.location)
        }
        for inner in test.tests.tests {
            try validateTest(inner)
        }
    }

    private func validateTestPart(
        _ tests: SieveTestArguments, spec: SieveArgumentSpec, owner: String,
        location: SieveSourceLocation
    ) throws(SieveError) {
        switch (spec.tests, tests) {
        case (.none, .none), (.single, .single), (.list, .list):
            return
        case (.none, .single(let list)), (.none, .list(let list)):
            throw SieveError(
                .invalidArguments, at: list.first?.location ?? location, "the \(owner) does not take a test"
            )
        case (.single, .none):
            throw SieveError(.invalidArguments, at: location, "the \(owner) requires a test")
        case (.single, .list):
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) takes a single test, not a test list '( ... )'")
        case (.list, .none):
            throw SieveError(
                .invalidArguments, at: location, "the \(owner) requires a test list '( ... )'")
        case (.list, .single):
            throw SieveError(
                .invalidArguments, at: location, "the \(owner) takes a test list in parentheses '( ... )'")
        }
    }

    // MARK: - Arguments

    private func validateArguments(
        _ arguments: [SieveArgument], spec: SieveArgumentSpec, owner: String,
        location: SieveSourceLocation
    ) throws(SieveError) {
        var seenGroups: [String: String] = [:]
        var seenComparator: String?
        var positional: [SieveArgument] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard case .tag(let tagName) = argument.value else {
                positional.append(argument)
                continue
            }
            guard let tag = spec.tags[tagName] else {
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "unknown tagged argument ':\(tagName)' for the \(owner)")
            }
            if let needed = tag.requires, !extensions.contains(needed) {
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "unknown tagged argument ':\(tagName)' for the \(owner) (only available after require :\(needed.rawValue))"
                )
            }
            if !positional.isEmpty {
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "tagged argument ':\(tagName)' must come before the positional arguments of the \(owner)")
            }
            if let earlier = seenGroups[tag.group] {
                let detail =
                    earlier == tagName ? "':\(tagName)' is given twice" : "':\(earlier)' and ':\(tagName)'"
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "conflicting \(tag.group) arguments for the \(owner): \(detail)")
            }
            seenGroups[tag.group] = tagName
            if let parameter = tag.parameter {
                guard position < arguments.count, Self.matches(arguments[position].value, parameter.type)
                else {
                    let found =
                        position < arguments.count ? Self.describe(arguments[position].value) : "nothing"
                    throw SieveError(
                        .invalidArguments,
                        at: position < arguments.count ? arguments[position].location : argument.location,
                        "the :\(tagName) tag of the \(owner) expects \(parameter.type.article) (\(parameter.name)), but \(found) was found"
                    )
                }
                try validateTagParameter(tagName, arguments[position], owner: owner)
                if tagName == "comparator", case .string(let name) = arguments[position].value {
                    seenComparator = name
                }
                position += 1
            }
        }
        if seenComparator == "i;ascii-numeric", let matchType = seenGroups["match type"],
            ["contains", "matches", "regex"].contains(matchType)
        {
            throw SieveError(
                .invalidArguments, at: location,
                "the comparator 'i;ascii-numeric' of the \(owner) does not support the :\(matchType) match type"
            )
        }
        for group in spec.requiredGroups where seenGroups[group] == nil {
            let names = spec.tags.filter { $0.value.group == group }.keys.sorted().map { ":" + $0 }
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires one of the tags \(names.joined(separator: " or "))")
        }
        if positional.count != spec.positional.count {
            let expected = spec.positional.map(\.name).joined(separator: ", ")
            let description =
                spec.positional.isEmpty
                ? "no positional arguments"
                : "\(spec.positional.count) positional argument\(spec.positional.count == 1 ? "" : "s") (\(expected))"
            throw SieveError(
                .invalidArguments,
                at: positional.count > spec.positional.count
                    ? positional[spec.positional.count].location : location,
                "the \(owner) expects \(description), but \(positional.count) \(positional.count == 1 ? "was" : "were") found"
            )
        }
        for (offset, (argument, expected)) in zip(positional, spec.positional).enumerated()
        where !Self.matches(argument.value, expected.type) {
            throw SieveError(
                .invalidArguments, at: argument.location,
                "the \(owner) expects \(expected.type.article) as argument \(offset + 1) (\(expected.name)), "
                    + "but \(Self.describe(argument.value)) was found")
        }
    }

    private func validateTagParameter(_ tagName: String, _ argument: SieveArgument, owner: String)
        throws(SieveError)
    {
        guard case .string(let text) = argument.value else { return }
        switch tagName {
        case "comparator":
            switch text {
            case "i;octet", "i;ascii-casemap":
                return
            case "i;ascii-numeric":
                if extensions.contains(.comparatorAsciiNumeric) { return }
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "comparator 'i;ascii-numeric' is only available after require :comparator-i;ascii-numeric"
                )
            default:
                throw SieveError(
                    .invalidArguments, at: argument.location, "unknown comparator '\(text)' for the \(owner)")
            }
        case "value", "count":
            if ["gt", "ge", "lt", "le", "eq", "ne"].contains(text.lowercased()) { return }
            throw SieveError(
                .invalidArguments, at: argument.location,
                "invalid relational operator '\(text)' for the :\(tagName) tag of the \(owner) (expected gt, ge, lt, le, eq or ne)"
            )
        default:
            return
        }
    }

    private static func matches(_ value: SieveArgument.Value, _ type: SieveArgumentSpec.ValueType)
        -> Bool
    {
        switch (value, type) {
        case (.string, .string), (.string, .stringList), (.stringList, .stringList), (.number, .number):
            return true
        default: return false
        }
    }

    private static func describe(_ value: SieveArgument.Value) -> String {
        switch value {
        case .string: return "a string"
        case .stringList: return "a string list"
        case .number: return "a number"
        case .tag(let name): return "tag ':\(name)'"
        }
    }
}
