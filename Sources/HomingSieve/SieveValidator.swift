/// Checks a parsed script: `require` first and naming known extensions, every command and test
/// known and its extension required, tags (with their parameters), positional arguments, tests
/// and blocks as each command or test defines them, and the values that can be checked before
/// run time (comparators, relational operators, variable names, date parts, zones, regular
/// expressions, addresses, script names).
///
/// Messages follow Pigeonhole's wording. Like Pigeonhole, validation goes on after an error
/// (with the next command) so that `diagnose` can report several errors; `validate` throws the first.
public struct SieveValidator: Sendable {
    /// The most errors `diagnose` collects before giving up.
    public static let maxErrors = 30

    var extensions: Set<SieveExtension> = []
    private var errors: [SieveError] = []

    /// Creates a validator.
    public init() {}

    /// Validates `script` and returns the extensions it requires, or throws the first error.
    public static func validate(_ script: SieveScript) throws(SieveError) -> Set<SieveExtension> {
        let result = diagnose(script)
        if let first = result.errors.first { throw first }
        return result.extensions
    }

    /// Validates `script` and returns the extensions it requires with every error found (in
    /// script order, at most `maxErrors`); the script is valid when `errors` is empty.
    public static func diagnose(_ script: SieveScript) -> (
        extensions: Set<SieveExtension>, errors: [SieveError]
    ) {
        var validator = SieveValidator()
        validator.validateTopLevel(script.commands)
        return (validator.extensions, Array(validator.errors.prefix(maxErrors)))
    }

    /// The capabilities named by the leading `require` commands of `script` that are known,
    /// without validating anything (used to decide on `encoded-character` before validation).
    static func requiredExtensions(_ script: SieveScript) -> Set<SieveExtension> {
        var found: Set<SieveExtension> = []
        for command in script.commands {
            guard command.name == "require" else { break }
            for argument in command.arguments {
                for name in argument.strings ?? [] {
                    if let known = SieveExtension(rawValue: name) { found.insert(known) }
                }
            }
        }
        return found
    }

    private mutating func record(_ error: SieveError) {
        if errors.count < Self.maxErrors { errors.append(error) }
    }

    // MARK: - Commands

    private mutating func validateTopLevel(_ commands: [SieveCommand]) {
        var requiresAllowed = true
        for command in commands {
            if command.name == "require" {
                do throws(SieveError) {
                    guard requiresAllowed else { throw misplacedRequire(command) }
                    try validateRequire(command)
                } catch {
                    record(error)
                }
            } else {
                requiresAllowed = false
            }
        }
        // RFC 6131: "vacation-seconds" implies "vacation".
        if extensions.contains(.vacationSeconds) { extensions.insert(.vacation) }
        validateList(commands, topLevel: true)
    }

    private func misplacedRequire(_ command: SieveCommand) -> SieveError {
        SieveError(
            .misplacedCommand, at: command.location,
            "require commands can only be placed at top level at the beginning of the file")
    }

    private mutating func validateRequire(_ command: SieveCommand) throws(SieveError) {
        _ = try validateShape(command)
        guard let argument = command.arguments.first, let names = argument.strings else { return }
        for name in names {
            // RFC 5228 section 2.7.3: i;octet and i;ascii-casemap are always available; requiring
            // them is allowed and changes nothing (Pigeonhole accepts it too).
            if Self.builtInComparatorCapabilities.contains(name) { continue }
            guard let known = SieveExtension(rawValue: name) else {
                throw SieveError(
                    .unknownExtension, at: argument.location,
                    "require command: unknown Sieve capability '\(name)'")
            }
            extensions.insert(known)
        }
    }

    /// The `comparator-` capabilities of the comparators every implementation has.
    static let builtInComparatorCapabilities: Set<String> = ["comparator-i;octet", "comparator-i;ascii-casemap"]

    private mutating func validateList(_ commands: [SieveCommand], topLevel: Bool) {
        var previous: String?
        for command in commands {
            if command.name == "require" {
                if !topLevel { record(misplacedRequire(command)) }
            } else {
                validateCommand(command, previous: previous)
            }
            previous = command.name
        }
    }

    private mutating func validateCommand(_ command: SieveCommand, previous: String?) {
        do throws(SieveError) {
            try checkCommandName(command, previous: previous)
            let parsed = try validateShape(command)
            try checkCommand(command, parsed)
        } catch {
            record(error)
            // An unknown command: its tests and block mean nothing, do not descend.
            if error.kind == .unknownCommand { return }
        }
        for test in command.tests.tests {
            do throws(SieveError) {
                try validateTest(test)
            } catch {
                record(error)
            }
        }
        if let block = command.block {
            validateList(block, topLevel: false)
        }
    }

    private func checkCommandName(_ command: SieveCommand, previous: String?) throws(SieveError) {
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
    }

    /// Checks arguments, tests and block of `command` against its spec.
    private func validateShape(_ command: SieveCommand) throws(SieveError) -> SieveParsedArguments {
        guard let spec = SieveArgumentSpec.command(command.name) else {
            return SieveParsedArguments(tagged: [], positional: command.arguments)
        }
        let owner = "\(command.name) command"
        // Pigeonhole checks the arguments first: their error comes before a spurious test's.
        let parsed = try validateArguments(
            command.arguments, spec: spec, owner: owner, location: command.location)
        try validateTestPart(command, spec: spec, owner: owner)
        if spec.block, command.block == nil {
            throw SieveError(
                .invalidArguments, at: command.location,
                "the \(command.name) command requires a command block, but it is missing")
        }
        if !spec.block, command.block != nil {
            throw SieveError(
                .invalidArguments, at: command.location,
                "the \(command.name) command does not accept a command block, but one is specified anyway")
        }
        return parsed
    }

    private func validateTestPart(_ command: SieveCommand, spec: SieveArgumentSpec, owner: String)
        throws(SieveError)
    {
        if spec.tests == .none, let first = command.tests.tests.first {
            if spec.tags[first.name] != nil {
                throw SieveError(
                    .syntax, at: first.location,
                    "missing colon ':' before ':\(first.name)' tag in \(owner)")
            }
            if SieveArgumentSpec.knownTests.contains(first.name) {
                throw SieveError(
                    .invalidArguments, at: command.location,
                    "the \(owner) accepts no sub-tests, but tests are specified")
            }
            throw SieveError(.syntax, at: command.location, "missing semicolon ';' after \(owner)")
        }
        try Self.checkSubtests(command.tests, spec: spec, owner: owner, location: command.location)
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
            if spec.tests == .none, let first = test.tests.tests.first {
                if spec.tags[first.name] != nil {
                    throw SieveError(
                        .syntax, at: first.location, "missing colon ':' before ':\(first.name)' tag in \(owner)"
                    )
                }
                throw SieveError(
                    .invalidArguments, at: test.location, "the \(owner) accepts no sub-tests, but tests are specified")
            }
            let parsed = try validateArguments(test.arguments, spec: spec, owner: owner, location: test.location)
            try Self.checkSubtests(test.tests, spec: spec, owner: owner, location: test.location)
            try checkTest(test, parsed)
        }
        for inner in test.tests.tests {
            try validateTest(inner)
        }
    }

    private static func checkSubtests(
        _ tests: SieveTestArguments, spec: SieveArgumentSpec, owner: String,
        location: SieveSourceLocation
    ) throws(SieveError) {
        switch (spec.tests, tests) {
        case (.none, .none), (.single, .single), (.list, .list):
            return
        case (.none, .single), (.none, .list):
            throw SieveError(
                .invalidArguments, at: location, "the \(owner) accepts no sub-tests, but tests are specified")
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

    // MARK: - Arguments

    private func validateArguments(
        _ arguments: [SieveArgument], spec: SieveArgumentSpec, owner: String,
        location: SieveSourceLocation
    ) throws(SieveError) -> SieveParsedArguments {
        var seenGroups: [String: String] = [:]
        var tagged: [SieveTaggedArgument] = []
        var positional: [SieveArgument] = []
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard case .tag(let tagName) = argument.value else {
                positional.append(argument)
                continue
            }
            if !positional.isEmpty {
                throw SieveError(
                    .invalidArguments, at: argument.location,
                    "encountered an unexpected tagged argument ':\(tagName)' while validating positional arguments for the \(owner)"
                )
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
            if let earlier = seenGroups[tag.group] {
                let what = earlier == tagName ? ":\(tagName) argument" : "\(tag.group) argument (:\(tagName))"
                throw SieveError(
                    .invalidArguments, at: argument.location, "encountered duplicate \(what) for the \(owner)")
            }
            seenGroups[tag.group] = tagName
            var parameter: SieveArgument?
            if let expected = tag.parameter {
                guard position < arguments.count else {
                    throw SieveError(
                        .invalidArguments, at: argument.location,
                        "the :\(tagName) tag for the \(owner) requires \(expected.type.article) as parameter, but no parameters were found"
                    )
                }
                let next = arguments[position]
                guard Self.matches(next.value, expected.type) else {
                    throw SieveError(
                        .invalidArguments, at: next.location,
                        "the :\(tagName) tag for the \(owner) requires \(expected.type.article) as parameter, but \(Self.describe(next.value)) was found"
                    )
                }
                try checkTagParameter(tagName, next, owner: owner)
                parameter = next
                position += 1
            }
            tagged.append(SieveTaggedArgument(name: tagName, parameter: parameter, location: argument.location))
        }
        for group in spec.requiredGroups where seenGroups[group] == nil {
            let names = spec.tags.filter { $0.value.group == group }.keys.sorted().map { ":" + $0 }
            throw SieveError(
                .invalidArguments, at: location,
                "the \(owner) requires one of the tags \(names.joined(separator: " or "))")
        }
        let maximum = spec.positional.count
        let minimum = maximum - spec.optionalLeadingPositional
        guard positional.count >= minimum, positional.count <= maximum else {
            let required = minimum == maximum ? "\(maximum)" : "\(minimum) or \(maximum)"
            throw SieveError(
                .invalidArguments,
                at: positional.count > maximum ? positional[maximum].location : location,
                "the \(owner) requires \(required) positional argument(s), but \(positional.count) is/are specified"
            )
        }
        // When optional leading arguments are left out, the given ones are the last ones.
        let expectedTypes = spec.positional.suffix(positional.count)
        for (offset, (argument, expected)) in zip(positional, expectedTypes).enumerated()
        where !Self.matches(argument.value, expected.type) {
            throw SieveError(
                .invalidArguments, at: argument.location,
                "the \(owner) expects \(expected.type.article) as argument \(offset + 1) (\(expected.name)), "
                    + "but \(Self.describe(argument.value)) was found")
        }
        return SieveParsedArguments(tagged: tagged, positional: positional)
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
