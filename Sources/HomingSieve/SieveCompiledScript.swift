/// A script that has been lexed, parsed and validated, with the extensions it requires.
public struct SieveCompiledScript: Sendable, Hashable {
    /// Pigeonhole's default `sieve_max_script_size`: 1M.
    public static let defaultMaxScriptSize = 1 << 20

    /// The syntax tree. With `encoded-character` required, its strings are already decoded.
    public var script: SieveScript
    /// The extensions named by the script's `require` commands (with `vacation` added when
    /// `vacation-seconds` is required).
    public var extensions: Set<SieveExtension>

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
    /// refused before it is parsed.
    public static func compile(
        _ source: String, limits: SieveParser.Limits = SieveParser.Limits(),
        maxScriptSize: Int = defaultMaxScriptSize
    ) throws(SieveError) -> SieveCompiledScript {
        let size = source.utf8.count
        if maxScriptSize > 0, size > maxScriptSize {
            throw SieveError(
                .scriptTooLarge, at: SieveSourceLocation(line: 1, column: 1),
                "script is too large: \(size) bytes, but at most \(maxScriptSize) are allowed (sieve_max_script_size)"
            )
        }
        var script = try SieveParser.parse(source, limits: limits)
        if SieveValidator.requiredExtensions(script).contains(.encodedCharacter) {
            script = try SieveEncodedCharacter.decode(script)
        }
        let extensions = try SieveValidator.validate(script)
        return SieveCompiledScript(script: script, extensions: extensions)
    }

    /// Like `compile`, but returns every error found (parse errors stop at the first; the
    /// validator goes on after an error, as Pigeonhole does). Empty errors mean success.
    public static func diagnose(
        _ source: String, limits: SieveParser.Limits = SieveParser.Limits(),
        maxScriptSize: Int = defaultMaxScriptSize
    ) -> (script: SieveCompiledScript?, errors: [SieveError]) {
        do throws(SieveError) {
            return (try compile(source, limits: limits, maxScriptSize: maxScriptSize), [])
        } catch {
            guard error.kind != .scriptTooLarge,
                var script = try? SieveParser.parse(source, limits: limits)
            else { return (nil, [error]) }
            if SieveValidator.requiredExtensions(script).contains(.encodedCharacter) {
                guard let decoded = try? SieveEncodedCharacter.decode(script) else { return (nil, [error]) }
                script = decoded
            }
            let result = SieveValidator.diagnose(script)
            return (nil, result.errors.isEmpty ? [error] : result.errors)
        }
    }
}
