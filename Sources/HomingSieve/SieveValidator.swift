/// Checks a parsed script: `require` first and naming available extensions, every command and
/// test known and its extension required, tags (with their parameters), positional arguments,
/// tests and blocks as each command or test defines them, and the values that can be checked
/// before run time (comparators, relational operators, variable names, date parts, zones,
/// regular expressions, addresses, script names, notification URIs, header names).
///
/// Messages and the order of checks follow Pigeonhole's. Like Pigeonhole, validation goes on
/// after an error (with the next command) so that `diagnose` can report several errors, and a
/// block that can never run (its test is constant false, as `if false`, or `ihave` naming a
/// capability that is not available) is not checked: RFC 5228 section 2.10.6 allows this, and
/// it is what lets `ihave` guard code using unknown extensions.
public struct SieveValidator: Sendable {
    /// The most errors `diagnose` collects before giving up.
    public static let maxErrors = 30

    /// What the validator found: the extensions the script uses, its errors and warnings.
    public struct Outcome: Sendable, Hashable {
        /// The extensions required (and loaded by `ihave`).
        public var extensions: Set<SieveExtension>
        /// The errors, in script order; the script is valid when this is empty.
        public var errors: [SieveError]
        /// The warnings, in script order.
        public var warnings: [SieveWarning]
    }

    /// Which extensions the script may use.
    let available: SieveExtensionSet
    /// Whether the script is an administrator's (`sieve_global_extensions`).
    let scope: SieveScriptScope
    /// The `editheader` settings (forbidden fields, value size) checked on constant arguments.
    let editHeader: SieveEditHeaderSettings

    var extensions: Set<SieveExtension> = []
    private var errors: [SieveError] = []
    /// Every failure recorded, the silent ones (repeated unknown names) included.
    private var failures = 0
    var warnings: [SieveWarning] = []
    /// Unknown command and test names already reported (Pigeonhole reports each once).
    private var reportedUnknown: Set<String> = []
    /// Unknown tags already reported, as `owner:tag`.
    var reportedUnknownTags: Set<String> = []
    /// The `:name`s of the enclosing `foreverypart` loops, innermost last (`nil` when unnamed).
    var loops: [String?] = []

    /// Pigeonhole's limit on nested `foreverypart` loops.
    static let maxLoopDepth = 4

    /// Creates a validator for scripts of `scope` that may use `available`.
    public init(
        available: SieveExtensionSet = .all, scope: SieveScriptScope = .personal,
        editHeader: SieveEditHeaderSettings = SieveEditHeaderSettings()
    ) {
        self.available = available
        self.scope = scope
        self.editHeader = editHeader
    }

    /// Validates `script` and returns the extensions it requires, or throws the first error.
    public static func validate(
        _ script: SieveScript, available: SieveExtensionSet = .all, scope: SieveScriptScope = .personal
    ) throws(SieveError) -> Set<SieveExtension> {
        let outcome = check(script, available: available, scope: scope)
        if let first = outcome.errors.first { throw first }
        return outcome.extensions
    }

    /// Validates `script` and returns the extensions it requires with every error found (in
    /// script order, at most `maxErrors`); the script is valid when `errors` is empty.
    public static func diagnose(
        _ script: SieveScript, available: SieveExtensionSet = .all, scope: SieveScriptScope = .personal
    ) -> (extensions: Set<SieveExtension>, errors: [SieveError]) {
        let outcome = check(script, available: available, scope: scope)
        return (outcome.extensions, outcome.errors)
    }

    /// Validates `script`: its extensions, errors and warnings.
    public static func check(
        _ script: SieveScript, available: SieveExtensionSet = .all, scope: SieveScriptScope = .personal,
        editHeader: SieveEditHeaderSettings = SieveEditHeaderSettings()
    ) -> Outcome {
        var validator = SieveValidator(available: available, scope: scope, editHeader: editHeader)
        validator.validateTopLevel(script.commands)
        return Outcome(
            extensions: validator.extensions, errors: Array(validator.errors.prefix(maxErrors)),
            warnings: validator.warnings)
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

    mutating func record(_ error: SieveError) {
        failures += 1
        if error == Self.alreadyReported { return }
        if errors.count < Self.maxErrors { errors.append(error) }
    }

    mutating func warn(_ location: SieveSourceLocation, _ message: String) {
        warnings.append(SieveWarning(at: location, message))
    }

    /// Runs `body`, recording the error it throws; `true` when it threw none.
    @discardableResult
    mutating func recording(_ body: (inout SieveValidator) throws(SieveError) -> Void) -> Bool {
        do throws(SieveError) {
            try body(&self)
            return true
        } catch {
            record(error)
            return false
        }
    }

    // MARK: - require

    private mutating func validateTopLevel(_ commands: [SieveCommand]) {
        var requiresAllowed = true
        var requireLocation: SieveSourceLocation?
        for command in commands {
            if command.name == "require" {
                requireLocation = requireLocation ?? command.arguments.first?.location ?? command.location
                recording { (validator) throws(SieveError) in
                    guard requiresAllowed else { throw validator.misplacedRequire(command) }
                    try validator.validateRequire(command)
                }
            } else {
                requiresAllowed = false
            }
        }
        // RFC 6131: "vacation-seconds" implies "vacation".
        if extensions.contains(.vacationSeconds) { extensions.insert(.vacation) }
        // Checks of the required set as a whole; Pigeonhole stops validating when one fails.
        let location = requireLocation ?? SieveSourceLocation(line: 1, column: 1)
        if extensions.contains(.extracttext) {
            if !extensions.contains(.variables) {
                record(
                    SieveError(
                        .invalidArguments, at: location,
                        "extracttext extension cannot be used without variables extension"))
                return
            }
            if !extensions.contains(.foreverypart) {
                record(
                    SieveError(
                        .invalidArguments, at: location,
                        "extracttext extension cannot be used without foreverypart extension"))
                return
            }
        }
        if extensions.contains(.spamtest), extensions.contains(.spamtestplus) {
            warn(location, "the spamtest and spamtestplus extensions should not be specified at the same time")
        }
        validateList(commands, topLevel: true)
    }

    private func misplacedRequire(_ command: SieveCommand) -> SieveError {
        SieveError(
            .misplacedCommand, at: command.location,
            "require commands can only be placed at top level at the beginning of the file")
    }

    private mutating func validateRequire(_ command: SieveCommand) throws(SieveError) {
        guard let spec = SieveArgumentSpec.command("require") else { return }
        _ = try validateArguments(
            SieveParsedArguments(arguments: command.arguments, spec: spec), spec: spec, owner: "require command",
            location: command.location)
        guard let argument = command.arguments.first, let names = argument.strings else { return }
        for name in names {
            // RFC 5228 section 2.7.3: i;octet and i;ascii-casemap are always available; requiring
            // them is allowed and changes nothing (Pigeonhole accepts it too).
            if Self.builtInComparatorCapabilities.contains(name) { continue }
            extensions.insert(try loadCapability(name, at: argument.location, owner: "require command"))
        }
    }

    /// The extension `name` when a script of this scope may use it, otherwise Pigeonhole's error.
    func loadCapability(_ name: String, at location: SieveSourceLocation, owner: String) throws(SieveError)
        -> SieveExtension
    {
        if let known = SieveExtension(rawValue: name) {
            if available.allows(known, in: scope) { return known }
            if scope == .personal, available.allows(known, in: .global) {
                throw SieveError(
                    .unknownExtension, at: location,
                    "\(owner): failed to load Sieve capability `\(name)': its use is restricted to global scripts")
            }
        }
        let isCommand = SieveArgumentSpec.coreCommands.contains(name.lowercased())
        if isCommand || SieveArgumentSpec.coreTests.contains(name.lowercased()) {
            throw SieveError(
                .unknownExtension, at: location,
                "\(owner): `\(name)' is not known as a Sieve capability, but it is known as a Sieve \(isCommand ? "command" : "test") that is always available"
            )
        }
        throw SieveError(.unknownExtension, at: location, "\(owner): unknown Sieve capability `\(name)'")
    }

    /// The `comparator-` capabilities of the comparators every implementation has.
    static let builtInComparatorCapabilities: Set<String> = ["comparator-i;octet", "comparator-i;ascii-casemap"]

    // MARK: - Command lists

    /// Whether the branches of an `if` chain seen so far include one that always runs.
    private struct Chain {
        var constantTrue = false
    }

    private mutating func validateList(_ commands: [SieveCommand], topLevel: Bool) {
        var previous: String?
        var chain: Chain?
        for command in commands {
            switch command.name {
            case "require":
                if !topLevel { record(misplacedRequire(command)) }
                chain = nil
            case "if":
                var newChain = Chain()
                validateCommand(command, previous: previous, chain: &newChain)
                chain = newChain
            case "elsif", "else":
                var current = chain ?? Chain()
                validateCommand(command, previous: previous, chain: &current)
                chain = command.name == "elsif" ? current : nil
            default:
                var unused = Chain()
                validateCommand(command, previous: previous, chain: &unused)
                chain = nil
            }
            previous = command.name
        }
    }

    /// A test's value when it is known before run time: `true`/`false`, or `nil` when it
    /// depends on the message.
    typealias Constant = Bool?

    private mutating func validateCommand(_ command: SieveCommand, previous: String?, chain: inout Chain) {
        do throws(SieveError) {
            try checkCommandName(command, previous: previous)
        } catch {
            record(error)
            // An unknown command: its arguments, tests and block mean nothing.
            if error.kind != .misplacedCommand { return }
        }
        guard let spec = SieveArgumentSpec.command(command.name) else { return }
        // `elsif` and `else` after a branch that always runs can never run: their tests and
        // block are not checked (their own arguments are).
        let deadBranch = command.name != "if" && chain.constantTrue
        let owner = "\(command.name) command"
        let parsed = SieveParsedArguments(arguments: command.arguments, spec: spec)
        var valid = recording { (validator) throws(SieveError) in
            _ = try validator.validateArguments(parsed, spec: spec, owner: owner, location: command.location)
        }
        if valid {
            valid = recording { (validator) throws(SieveError) in
                try validator.checkTestPart(
                    command.tests, spec: spec, tags: spec.tags, owner: owner, location: command.location)
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
                try validator.checkCommand(command, parsed)
            }
        } else {
            // A tag written without its ':' parses as a test: say so too.
            recording { (validator) throws(SieveError) in
                try validator.checkTestPart(
                    command.tests, spec: spec, tags: spec.tags, owner: owner, location: command.location)
            }
        }
        if deadBranch, valid { return }
        if spec.tests != .none, !deadBranch {
            let before = failures
            let constant = validateTests(command.tests.tests, combinedBy: .single)
            if failures != before { valid = false }
            if command.name == "if" || command.name == "elsif" {
                if valid, constant == false { return }
                if constant == true { chain.constantTrue = true }
            }
        }
        if let block = command.block {
            let isLoop = command.name == "foreverypart"
            if isLoop { loops.append(parsed.string("name")) }
            validateList(block, topLevel: false)
            if isLoop { loops.removeLast() }
        }
    }

    private mutating func checkCommandName(_ command: SieveCommand, previous: String?) throws(SieveError) {
        let name = command.name
        if !SieveArgumentSpec.knownCommands.contains(name) {
            if SieveArgumentSpec.knownTests.contains(name) {
                throw SieveError(
                    .unknownCommand, at: command.location, "attempted to use test '\(name)' as command")
            }
            throw try unknown("command", name, at: command.location)
        }
        if let needed = SieveExtension.requiredForCommand(name), !extensions.contains(needed) {
            throw try unknown("command", name, at: command.location, needs: needed)
        }
        if name == "elsif" || name == "else", previous != "if", previous != "elsif" {
            throw SieveError(
                .misplacedCommand, at: command.location,
                "the \(name) command must follow an if or elsif command")
        }
    }

    /// The error for an unknown command or test. A name is reported once (later uses are
    /// silent, as in Pigeonhole): a repeated one throws a silent marker.
    private mutating func unknown(
        _ kind: String, _ name: String, at location: SieveSourceLocation, needs needed: SieveExtension? = nil
    ) throws(SieveError) -> SieveError {
        if let needed, available.allows(needed, in: scope) {
            return SieveError(
                .unknownCommand, at: location,
                "unknown \(kind) '\(name)' (only available after require :\(needed.rawValue))")
        }
        if reportedUnknown.contains(name) { throw Self.alreadyReported }
        reportedUnknown.insert(name)
        return SieveError(.unknownCommand, at: location, "unknown \(kind) '\(name)' (only reported once at first occurrence)")
    }

    /// Thrown for a problem already reported: `record` never keeps it.
    static let alreadyReported = SieveError(.unknownCommand, at: SieveSourceLocation(line: 0, column: 0), "")

    // MARK: - Tests

    /// How a test list combines its members.
    enum Combination {
        case single, allof, anyof, not
    }

    /// Validates `tests` as the test part of a command or test combining them as `combination`
    /// and returns the combined constant value. As in Pigeonhole, `allof` stops at a member that
    /// is constant false and `anyof` at one that is constant true: the members after it can
    /// never be evaluated and are not checked.
    private mutating func validateTests(_ tests: [SieveTest], combinedBy combination: Combination) -> Constant {
        var combined: Constant?
        for test in tests {
            var value: Constant = nil
            let valid = recording { (validator) throws(SieveError) in
                value = try validator.validateTest(test)
            }
            if !valid { value = nil }
            switch combination {
            case .single:
                return value
            case .not:
                return value.map { !$0 }
            case .allof:
                if value == false { return false }
                if combined != .some(nil) { combined = value }
            case .anyof:
                if value == true { return true }
                if combined != .some(nil) { combined = value }
            }
        }
        return combined ?? nil
    }

    private mutating func validateTest(_ test: SieveTest) throws(SieveError) -> Constant {
        let name = test.name
        if !SieveArgumentSpec.knownTests.contains(name) {
            if SieveArgumentSpec.knownCommands.contains(name) {
                throw SieveError(
                    .unknownCommand, at: test.location, "attempted to use command '\(name)' as test")
            }
            throw try unknown("test", name, at: test.location)
        }
        if let needed = SieveExtension.requiredForTest(name), !extensions.contains(needed) {
            throw try unknown("test", name, at: test.location, needs: needed)
        }
        if name == "spamtest", !extensions.contains(.spamtest), !extensions.contains(.spamtestplus) {
            throw try unknown("test", name, at: test.location, needs: .spamtest)
        }
        guard let spec = SieveArgumentSpec.test(name) else { return nil }
        let owner = "\(name) test"
        let parsed = SieveParsedArguments(arguments: test.arguments, spec: spec)
        let argumentsValid = recording { (validator) throws(SieveError) in
            _ = try validator.validateArguments(parsed, spec: spec, owner: owner, location: test.location)
        }
        // With wrong arguments the test part is checked too: a tag written without its ':'
        // parses as a sub-test, and Pigeonhole reports both.
        try checkTestPart(test.tests, spec: spec, tags: spec.tags, owner: owner, location: test.location)
        if !argumentsValid { throw Self.alreadyReported }
        let value = try checkTest(test, parsed)
        switch name {
        case "true": return true
        case "false": return false
        case "not": return validateTests(test.tests.tests, combinedBy: .not)
        case "allof": return validateTests(test.tests.tests, combinedBy: .allof)
        case "anyof": return validateTests(test.tests.tests, combinedBy: .anyof)
        default: return value
        }
    }
}

