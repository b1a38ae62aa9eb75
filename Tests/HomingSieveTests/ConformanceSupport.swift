import Foundation
import Testing

@testable import HomingSieve

/// A message for conformance tests: header fields parsed from `text` (LF line ends, folding
/// undone), the body returned as-is for every transform.
struct ConformanceMessage: SieveMessageSource {
    var headerFields: [SieveHeaderField]
    var size: Int
    var body: String

    init(_ text: String) {
        let parts = text.components(separatedBy: "\n\n")
        let header = parts.first ?? ""
        body = parts.dropFirst().joined(separator: "\n\n")
        var fields: [SieveHeaderField] = []
        for line in header.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == " " || line.first == "\t", var last = fields.popLast() {
                last.rawValue += String(line)
                fields.append(last)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            fields.append(SieveHeaderField(name: String(line[..<colon]), rawValue: String(value)))
        }
        headerFields = fields
        size = text.utf8.count
    }

    func bodyTexts(_ transform: SieveBodyTransform) throws(SieveMessageError) -> [String] {
        [body]
    }
}

/// A runtime environment with fixed answers and a fixed `now` (2024-03-01 12:00:00 UTC).
struct ConformanceEnvironment: SieveRuntimeEnvironment {
    var mailboxes: Set<String> = ["INBOX"]
    var duplicates: Set<String> = []
    /// Scripts for `include`, keyed `personal:name` or `global:name`.
    var includes: [String: String] = [:]
    var environmentItems: [String: String] = ["domain": "example.com", "name": "Homing", "phase": "during"]
    var now = Date(timeIntervalSince1970: 1_709_294_400)

    func mailboxExists(_ mailbox: String) -> Bool { mailboxes.contains(mailbox) }

    func isDuplicate(key: String) -> Bool { duplicates.contains(key) }

    func loadInclude(name: String, location: SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript {
        let key = (location == .global ? "global:" : "personal:") + name
        guard let source = includes[key] else {
            throw SieveError(.syntax, at: SieveSourceLocation(line: 1, column: 1), "script '\(name)' not found")
        }
        return try SieveCompiledScript.compile(source)
    }
}

/// The message most tests use.
let conformanceMessage = """
    Date: Fri, 01 Mar 2024 10:30:00 +0100
    From: Alice Example <alice@example.org>
    To: Bob <bob+lists@example.com>, carol@example.net
    Cc: "Dave D." <dave@Example.COM>
    Subject: Meeting tomorrow
    Message-ID: <1234@example.org>
    X-Spam-Score: 7
    Received: from a by b; Fri, 01 Mar 2024 10:29:00 +0100
    Received: from c by d; Fri, 01 Mar 2024 10:28:00 +0100

    Hello Bob,
    see you at the meeting.
    """

let conformanceEnvelope = SieveEnvelope(
    from: "alice@example.org", to: "bob+lists@example.com", originalRecipient: "bob+lists@example.com",
    authUser: nil)

/// Compiles and runs `script`; a compile error fails the test with its text.
func runSieve(
    _ script: String, message: String = conformanceMessage, envelope: SieveEnvelope = conformanceEnvelope,
    environment: ConformanceEnvironment = ConformanceEnvironment(), settings: SieveRuntimeSettings = .init()
) throws -> SieveResult {
    let compiled = try SieveCompiledScript.compile(script)
    return try SieveInterpreter.run(
        compiled, message: ConformanceMessage(message), envelope: envelope, environment: environment,
        settings: settings)
}

/// Runs `script` and returns the runtime error it raises, or `nil`.
func runtimeError(
    _ script: String, message: String = conformanceMessage, environment: ConformanceEnvironment = ConformanceEnvironment(),
    settings: SieveRuntimeSettings = .init()
) throws -> SieveRuntimeError? {
    let compiled = try SieveCompiledScript.compile(script)
    do {
        _ = try SieveInterpreter.run(
            compiled, message: ConformanceMessage(message), envelope: conformanceEnvelope, environment: environment,
            settings: settings)
        return nil
    } catch {
        return error
    }
}

/// The result of a script that only stores into `folders` (explicit `fileinto`s, no flags).
func filedInto(_ folders: String..., implicitKeep: Bool = false) -> SieveResult {
    SieveResult(
        actions: folders.map { .fileInto(mailbox: $0, flags: [], create: false, copy: false) },
        implicitKeep: implicitKeep)
}

/// The result of a script that did nothing: implicit keep only.
let implicitKeepOnly = SieveResult()
