/// How to compile a script: which extensions it may use (`sieve_extensions`,
/// `sieve_global_extensions`), whose script it is, the `editheader` settings its constant
/// arguments are checked against, and the size and nesting limits.
public struct SieveCompileOptions: Sendable, Hashable {
    /// The extensions available (default: every extension Homing implements; delivery passes
    /// the set `SieveExtensionSet.parse` read from the configuration).
    public var extensions: SieveExtensionSet
    /// `.personal` for the user's scripts, `.global` for administrator scripts (which may also
    /// use `sieve_global_extensions`).
    public var scope: SieveScriptScope
    /// The `editheader` settings (protected fields, `sieve_editheader_max_header_size`).
    public var editHeader: SieveEditHeaderSettings
    /// Nesting limits.
    public var limits: SieveParser.Limits
    /// `sieve_max_script_size` in octets (0 for no limit).
    public var maxScriptSize: Int

    /// Creates options.
    public init(
        extensions: SieveExtensionSet = .all, scope: SieveScriptScope = .personal,
        editHeader: SieveEditHeaderSettings = SieveEditHeaderSettings(), limits: SieveParser.Limits = SieveParser.Limits(),
        maxScriptSize: Int = SieveCompiledScript.defaultMaxScriptSize
    ) {
        self.extensions = extensions
        self.scope = scope
        self.editHeader = editHeader
        self.limits = limits
        self.maxScriptSize = maxScriptSize
    }
}

/// A script that has been lexed, parsed and validated, with the extensions it requires.
public struct SieveCompiledScript: Sendable, Hashable {
    /// Pigeonhole's default `sieve_max_script_size`: 1M.
    public static let defaultMaxScriptSize = 1 << 20

    /// The syntax tree. With `encoded-character` required, its strings are already decoded.
    public var script: SieveScript
    /// The extensions named by the script's `require` commands (with `vacation` added when
    /// `vacation-seconds` is required) and loaded by `ihave`.
    public var extensions: Set<SieveExtension>
    /// Warnings found while compiling (`line N: warning: ...`).
    public var warnings: [SieveWarning] = []
    /// The script's name for runtime messages (`reject/ereject action conflicts with other
    /// action: the store action (<name>: line 3) ...`), as Pigeonhole names scripts: the file
    /// name without `.sieve`. `nil` leaves the name out.
    public var name: String?

    /// The text of a script file. A script must be UTF-8 (RFC 5228 section 2.4.2): otherwise
    /// the error names the line of the first byte sequence that is not.
    public static func decodeSource(_ bytes: [UInt8]) throws(SieveError) -> String {
        if let source = String(validating: bytes, as: UTF8.self) { return source }
        var line = 1
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
            case .emptyInput, .error: break decoding
            }
        }
        throw SieveError(.invalidUTF8, at: SieveSourceLocation(line: line, column: 1), "invalid UTF-8 in the script")
    }

    /// Lexes, parses and validates `source`; throws the first error found.
    ///
    /// `maxScriptSize` is `sieve_max_script_size` in octets (0 for no limit): a larger script is
    /// refused before it is parsed. Every extension Homing implements is available; use
    /// `compile(_:options:)` to apply `sieve_extensions`.
    public static func compile(
        _ source: String, limits: SieveParser.Limits = SieveParser.Limits(),
        maxScriptSize: Int = defaultMaxScriptSize
    ) throws(SieveError) -> SieveCompiledScript {
        try compile(source, options: SieveCompileOptions(limits: limits, maxScriptSize: maxScriptSize))
    }

    /// Lexes, parses and validates `source` with `options`; throws the first error found.
    public static func compile(_ source: String, options: SieveCompileOptions) throws(SieveError)
        -> SieveCompiledScript
    {
        let result = diagnose(source, options: options)
        guard let script = result.script, result.errors.isEmpty else {
            throw result.errors.first ?? SieveError(.syntax, at: SieveSourceLocation(line: 1, column: 1), "invalid script")
        }
        return script
    }

    /// Like `compile`, but returns every error found (parse errors stop at the first; the
    /// validator goes on after an error, as Pigeonhole does). Empty errors mean success.
    public static func diagnose(
        _ source: String, limits: SieveParser.Limits = SieveParser.Limits(),
        maxScriptSize: Int = defaultMaxScriptSize
    ) -> (script: SieveCompiledScript?, errors: [SieveError]) {
        let result = diagnose(source, options: SieveCompileOptions(limits: limits, maxScriptSize: maxScriptSize))
        return (result.script, result.errors)
    }

    /// Compiles `source` with `options` and returns the script (when there are no errors),
    /// every error and the warnings.
    public static func diagnose(_ source: String, options: SieveCompileOptions) -> (
        script: SieveCompiledScript?, errors: [SieveError], warnings: [SieveWarning]
    ) {
        let size = source.utf8.count
        if options.maxScriptSize > 0, size > options.maxScriptSize {
            let error = SieveError(
                .scriptTooLarge, at: SieveSourceLocation(line: 1, column: 1),
                "script is too large: \(size) bytes, but at most \(options.maxScriptSize) are allowed (sieve_max_script_size)"
            )
            return (nil, [error], [])
        }
        var script: SieveScript
        do throws(SieveError) {
            script = try SieveParser.parse(source, limits: options.limits)
            if SieveValidator.requiredExtensions(script).contains(.encodedCharacter),
                options.extensions.allows(.encodedCharacter, in: options.scope)
            {
                script = try SieveEncodedCharacter.decode(script)
            }
        } catch {
            return (nil, [error], [])
        }
        let outcome = SieveValidator.check(
            script, available: options.extensions, scope: options.scope, editHeader: options.editHeader)
        guard outcome.errors.isEmpty else { return (nil, outcome.errors, outcome.warnings) }
        var compiled = SieveCompiledScript(script: script, extensions: outcome.extensions)
        compiled.warnings = outcome.warnings
        return (compiled, [], outcome.warnings)
    }
}
