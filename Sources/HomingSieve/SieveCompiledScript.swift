/// A script that has been lexed, parsed and validated, with the extensions it requires.
public struct SieveCompiledScript: Sendable, Hashable {
    /// The syntax tree.
    public var script: SieveScript
    /// The extensions named by the script's `require` commands.
    public var extensions: Set<SieveExtension>

    /// Lexes, parses and validates `source`; throws the first error found.
    public static func compile(_ source: String, limits: SieveParser.Limits = SieveParser.Limits())
        throws(SieveError) -> SieveCompiledScript
    {
        let script = try SieveParser.parse(source, limits: limits)
        let extensions = try SieveValidator.validate(script)
        return SieveCompiledScript(script: script, extensions: extensions)
    }
}
