import HomingSieve

/// A script that does not compile, with what Pigeonhole reports about it: every error, the
/// warnings found on the way, and whether it failed to parse or to validate.
public struct SieveCompileFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, in the order found (never empty).
    public var errors: [SieveError]
    /// The warnings found before the compiler gave up.
    public var warnings: [SieveWarning]
    /// Whether the script did not even parse (`parse failed`) rather than failing validation.
    public var parseFailed: Bool

    /// Creates a failure.
    public init(errors: [SieveError], warnings: [SieveWarning] = [], parseFailed: Bool) {
        self.errors = errors
        self.warnings = warnings
        self.parseFailed = parseFailed
    }

    /// Compiles `source` with `options`: the script with its warnings, or the failure.
    public static func compile(_ source: String, options: SieveCompileOptions) -> Result<SieveCompiledScript, SieveCompileFailure> {
        let outcome = SieveCompiledScript.diagnose(source, options: options)
        if let script = outcome.script, outcome.errors.isEmpty { return .success(script) }
        let errors =
            outcome.errors.isEmpty
            ? [SieveError(.syntax, at: SieveSourceLocation(line: 1, column: 1), "invalid script")] : outcome.errors
        let parses = (try? SieveParser.parse(source, limits: options.limits)) != nil
        return .failure(SieveCompileFailure(errors: errors, warnings: outcome.warnings, parseFailed: !parses))
    }

    /// The first error (`line N: error: ...`).
    public var description: String { "\(errors[0])" }

    /// Pigeonhole's report for the script called `name`: `<name>: line N: error: ...` for each
    /// error, then `<name>: error: parse failed.` or `validation failed.`
    public func lines(scriptName name: String) -> [String] {
        errors.map { "\(name): \($0)" } + ["\(name): error: \(parseFailed ? "parse" : "validation") failed."]
    }
}

/// How Pigeonhole names scripts and writes warnings in logs and `sieve-test` output.
public enum SieveScriptReport {
    /// `bad` for `/path/bad.sieve`, `.dovecot` for `~/.dovecot.sieve`: the file name without
    /// `.sieve`.
    public static func scriptName(_ path: String) -> String {
        let file = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        return file.hasSuffix(".sieve") && file.count > 6 ? String(file.dropLast(6)) : file
    }

    /// `<name>: line N: warning: ...` for each compile warning.
    public static func compileWarnings(_ warnings: [SieveWarning], scriptName name: String) -> [String] {
        warnings.map { "\(name): \($0)" }
    }

    /// `warning: ...` for each warning raised while running (Pigeonhole writes them without a
    /// location).
    public static func runtimeWarnings(_ warnings: [SieveWarning]) -> [String] {
        warnings.map { "warning: \($0.message)." }
    }
}
