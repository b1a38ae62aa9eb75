import Foundation

/// Runs compiled Sieve scripts on a message and returns what they decided (`SieveResult`),
/// without carrying anything out: storing, sending and duplicate tracking are the caller's.
///
/// Errors while running (too many actions, conflicting actions, a missing `include`, the work
/// limit, `error`) throw `SieveRuntimeError`; the caller then keeps the message in INBOX as
/// received, as Pigeonhole does (RFC 5293 section 7: without header edits).
public struct SieveInterpreter: Sendable {
    /// Runs `script` on `message`.
    public static func run(
        _ script: SieveCompiledScript, message: any SieveMessageSource, envelope: SieveEnvelope,
        environment: any SieveRuntimeEnvironment, settings: SieveRuntimeSettings = .init()
    ) throws(SieveRuntimeError) -> SieveResult {
        try runSequence(
            [script], message: message, envelope: envelope, environment: environment, settings: settings)
    }

    /// Runs `scripts` in order as one sequence (`sieve_before` scripts, the user's script,
    /// `sieve_after` scripts), with Pigeonhole's multiscript semantics:
    ///
    /// - All scripts add to one result: limits (`maxActions`, `maxRedirects`), merging of
    ///   duplicate actions and conflicts (`reject` after an earlier script's `fileinto`) apply
    ///   across the whole sequence.
    /// - The next script runs only when the current one ended with a keep in effect (its
    ///   implicit keep not cancelled, or an explicit `keep`). So `discard`, `fileinto` or
    ///   `redirect` (without `:copy`) in a `sieve_before` script ends the sequence there and the
    ///   user's script does not run; its actions stay in the result.
    /// - `stop` (and `return` outside an include) ends the current script only; whether the
    ///   next one runs is decided as above.
    /// - An explicit `keep` in a script that is not the last one is not stored separately: it
    ///   only lets the sequence continue, and the keep is decided by the last script that runs
    ///   (its implicit keep, or its explicit keep). Flags given with that earlier `keep` are lost.
    /// - Variables, match variables and the imap4flags internal variable belong to each script;
    ///   the implicit keep uses the internal flags of the last script that ran. Header edits
    ///   (`editheader`) carry over from one script to the next.
    ///
    /// An empty sequence gives the plain implicit keep.
    public static func runSequence(
        _ scripts: [SieveCompiledScript], message: any SieveMessageSource, envelope: SieveEnvelope,
        environment: any SieveRuntimeEnvironment, settings: SieveRuntimeSettings = .init()
    ) throws(SieveRuntimeError) -> SieveResult {
        let shared = SieveRunState(
            builder: SieveResultBuilder(maxActions: settings.maxActions, maxRedirects: settings.maxRedirects),
            budget: SieveWorkBudget(limit: settings.maxWork), headers: SieveHeaderState(original: message.headerFields))
        var state = shared
        var flags: [String] = []
        for (position, script) in scripts.enumerated() {
            let execution = SieveExecution(
                message: message, envelope: envelope, environment: environment, settings: settings, state: state)
            try execution.runMain(script)
            state = execution.state
            flags = execution.internalFlags
            if position == scripts.count - 1 { break }
            let kept =
                state.builder.implicitKeep
                || state.builder.actions.contains {
                    if case .keep = $0 { return true }
                    return false
                }
            if !kept { break }
            state.builder.carryKeepForward()
        }
        return state.builder.result(implicitKeepFlags: flags, implicitKeepHeader: state.headers.edited)
    }
}

/// What the scripts of one sequence share: the result so far, the work budget, the header
/// as edited so far and the message's MIME parts (parsed on first use).
struct SieveRunState: Sendable {
    var builder: SieveResultBuilder
    var budget: SieveWorkBudget
    var headers: SieveHeaderState
    var parts: SieveMIMEPartList?
}

/// What executing a list of commands ended with.
enum SieveFlow: Equatable {
    /// Went through to the end.
    case next
    /// `stop`: ends every script of the include tree.
    case stop
    /// `return`: ends the current (included) script.
    case returned
    /// `break` (RFC 5703): leaves the innermost `foreverypart` loop, or the one named.
    case breakLoop(String?)
}

/// The state of one script run (one script of a sequence with its includes). Used on one
/// thread only, for the duration of one `runSequence` call.
final class SieveExecution {
    /// The variable scope of one script (the main one or an included one).
    struct Frame {
        var extensions: Set<SieveExtension>
        var locals = SieveVariableStore()
        var globalNames: Set<String> = []
        var matchValues: [String] = []
        var name: String
        /// The script's name for messages (`nil` when the caller gave the main script none).
        var scriptName: String?
        var location: SieveIncludeLocation?
    }

    /// One `foreverypart` iteration: the loop's name and the part it is at.
    struct Loop {
        var name: String?
        var part: Int
    }

    let message: any SieveMessageSource
    let envelope: SieveEnvelope
    let environment: any SieveRuntimeEnvironment
    let settings: SieveRuntimeSettings
    var state: SieveRunState
    /// The imap4flags internal variable (RFC 5232 section 3), shared with included scripts.
    var internalFlags: [String] = []
    /// The `global` variables (RFC 6609 section 3.3).
    var globals = SieveVariableStore()
    var frame: Frame
    /// The scripts being included, outermost first (for recursion and depth checks).
    var includeStack: [IncludeKey] = []
    /// Scripts included so far (for `:once`).
    var included: Set<IncludeKey> = []
    /// The `foreverypart` loops running, outermost first (shared with included scripts).
    var loops: [Loop] = []

    struct IncludeKey: Hashable {
        var name: String
        var location: SieveIncludeLocation
    }

    init(
        message: any SieveMessageSource, envelope: SieveEnvelope, environment: any SieveRuntimeEnvironment,
        settings: SieveRuntimeSettings, state: SieveRunState
    ) {
        self.message = message
        self.envelope = envelope
        self.environment = environment
        self.settings = settings
        self.state = state
        self.frame = Frame(extensions: [], name: "main script", location: nil)
    }

    /// Runs a top-level script.
    func runMain(_ script: SieveCompiledScript) throws(SieveRuntimeError) {
        frame = Frame(extensions: script.extensions, name: "main script", scriptName: script.name, location: nil)
        _ = try execute(script.script.commands)
    }

    /// The current header fields (as edited so far).
    var headerFields: [SieveHeaderField] { state.headers.fields }

    /// Where an action is added, for conflict messages.
    func origin(_ location: SieveSourceLocation) -> SieveActionOrigin {
        SieveActionOrigin(script: frame.scriptName, location: location)
    }

    /// Records a runtime warning.
    func warn(_ location: SieveSourceLocation, _ message: String) {
        state.builder.warn(SieveWarning(at: location, message))
    }

    // MARK: - Control

    /// Executes `commands` in order, handling `if`/`elsif`/`else` chains.
    func execute(_ commands: [SieveCommand]) throws(SieveRuntimeError) -> SieveFlow {
        // nil: not in a chain; false: chain open, no branch taken yet; true: a branch ran.
        var chainTaken: Bool?
        for command in commands {
            switch command.name {
            case "if":
                let holds = try evaluate(single(command))
                chainTaken = holds
                if holds, let flow = try runBlock(command), flow != .next { return flow }
            case "elsif":
                guard chainTaken == false else { continue }
                let holds = try evaluate(single(command))
                chainTaken = holds
                if holds, let flow = try runBlock(command), flow != .next { return flow }
            case "else":
                guard chainTaken == false else {
                    chainTaken = nil
                    continue
                }
                chainTaken = nil
                if let flow = try runBlock(command), flow != .next { return flow }
            case "foreverypart":
                chainTaken = nil
                let flow = try runForEveryPart(command)
                if flow != .next { return flow }
            default:
                chainTaken = nil
                let flow = try perform(command)
                if flow != .next { return flow }
            }
        }
        return .next
    }

    private func runBlock(_ command: SieveCommand) throws(SieveRuntimeError) -> SieveFlow? {
        guard let block = command.block else { return nil }
        return try execute(block)
    }

    private func single(_ command: SieveCommand) throws(SieveRuntimeError) -> SieveTest {
        guard let test = command.tests.tests.first else {
            throw SieveRuntimeError(at: command.location, "the \(command.name) command has no test")
        }
        return test
    }

    // MARK: - Variables

    /// Expands `${...}` in `text` when the running script requires `variables`.
    func expand(_ text: String, at location: SieveSourceLocation) throws(SieveRuntimeError) -> String {
        guard frame.extensions.contains(.variables) else { return text }
        let frame = self.frame
        let globals = self.globals
        let includeKnown = frame.extensions.contains(.include)
        let expanded = try SieveVariableExpander.expand(text) {
            (reference: SieveVariableReference) throws(SieveRuntimeError) -> String in
            switch reference {
            case .match(let number):
                return number < frame.matchValues.count ? frame.matchValues[number] : ""
            case .plain(let name):
                return frame.globalNames.contains(name.lowercased()) ? globals.value(name) : frame.locals.value(name)
            case .namespaced(let namespace, let name):
                if namespace == "global", includeKnown, !name.contains(".") { return globals.value(name) }
                throw SieveRuntimeError(
                    at: location, "unknown variable namespace '\(namespace)' in variable '\(namespace).\(name)'")
            }
        }
        return SieveVariableStore.bounded(expanded)
    }

    /// Expands every string of `strings`.
    func expand(_ strings: [String], at location: SieveSourceLocation) throws(SieveRuntimeError) -> [String] {
        var result: [String] = []
        result.reserveCapacity(strings.count)
        for string in strings { result.append(try expand(string, at: location)) }
        return result
    }

    /// Assigns `value` to the variable `name` (plain or `global.` namespace).
    func assign(_ name: String, _ value: String, at location: SieveSourceLocation) throws(SieveRuntimeError) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ SieveVariableReference.isIdentifier($0) }) else {
            throw SieveRuntimeError(at: location, "invalid variable name '\(name)'")
        }
        let stored: Bool
        if parts.count == 2, parts[0].lowercased() == "global", frame.extensions.contains(.include) {
            stored = globals.set(String(parts[1]), value)
        } else if parts.count > 1 {
            throw SieveRuntimeError(
                at: location, "unknown variable namespace '\(parts[0])' in variable '\(name)'")
        } else if frame.globalNames.contains(name.lowercased()) {
            stored = globals.set(name, value)
        } else {
            stored = frame.locals.set(name, value)
        }
        if !stored {
            throw SieveRuntimeError(
                at: location,
                "too many variables: a script may use at most \(SieveVariableStore.maxScopeSize)")
        }
    }

    /// Reads the variable `name` (for imap4flags variable arguments).
    func variable(_ name: String, at location: SieveSourceLocation) throws(SieveRuntimeError) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ SieveVariableReference.isIdentifier($0) }) else {
            throw SieveRuntimeError(at: location, "invalid variable name '\(name)'")
        }
        if parts.count == 2, parts[0].lowercased() == "global", frame.extensions.contains(.include) {
            return globals.value(String(parts[1]))
        }
        if parts.count > 1 {
            throw SieveRuntimeError(at: location, "unknown variable namespace '\(parts[0])' in variable '\(name)'")
        }
        return frame.globalNames.contains(name.lowercased()) ? globals.value(name) : frame.locals.value(name)
    }

    // MARK: - Arguments

    /// Converts a matching failure into a runtime error at `location`.
    func runtime(_ error: SieveMatchError, at location: SieveSourceLocation) -> SieveRuntimeError {
        SieveRuntimeError(at: location, error.message)
    }
}
