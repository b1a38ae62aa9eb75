import Foundation
import Testing

@testable import HomingSieve

/// Compiles and runs `script` on `text` parsed by `SieveMessage(text:)` (the message model used
/// in delivery: folding, RFC 2047, MIME structure, transfer encodings, charsets).
func runSieve(
    _ script: String, realMessage text: String, envelope: SieveEnvelope = conformanceEnvelope,
    environment: ConformanceEnvironment = ConformanceEnvironment(), settings: SieveRuntimeSettings = .init()
) throws -> SieveResult {
    let compiled = try SieveCompiledScript.compile(script)
    return try SieveInterpreter.run(
        compiled, message: SieveMessage(text: text), envelope: envelope, environment: environment, settings: settings)
}

/// Whether `test` holds on the real message `text` (the script discards when it does).
func holds(
    require: String, _ test: String, realMessage text: String,
    environment: ConformanceEnvironment = ConformanceEnvironment(),
    settings: SieveRuntimeSettings = .init()
) throws -> Bool {
    let script = "require \(require);\nif \(test) { discard; }"
    return try !runSieve(script, realMessage: text, environment: environment, settings: settings).implicitKeep
}

/// The compile error `script` gives, or `nil` when it compiles.
func scriptCompileError(_ script: String) -> SieveError? {
    do {
        _ = try SieveCompiledScript.compile(script)
        return nil
    } catch {
        return error
    }
}

/// The `line N: error: message.` text of the compile error `script` gives, or `nil`.
func compileErrorText(_ script: String) -> String? {
    scriptCompileError(script)?.description
}

/// The message with LF line ends turned into CRLF (as LMTP delivers it).
func crlf(_ text: String) -> String {
    text.replacingOccurrences(of: "\n", with: "\r\n")
}
