import ArgumentParser
import Foundation
import HomingApp
import HomingSieve
import HomingSievePlugin

/// `homing sieve-test`: what a script would do with a message, without doing it (modelled on
/// Pigeonhole's `sieve-test`).
struct SieveTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sieve-test",
        abstract: "Run a Sieve script on a message and print the actions it would take, doing none of them.",
        discussion: """
            Output: "Performed actions:" and "Implicit keep:" sections (docs/sieve.md describes \
            the format). Nothing is stored or sent, and duplicate tracking is not consulted. \
            include looks for personal scripts next to SCRIPT and global ones in --global-dir. \
            Exit status: 0 when the script ran, 89 when it does not compile (errors on standard \
            error as "<script>: line N: error: ..."), 75 when it failed at run time or the files \
            cannot be read.
            """)

    @Option(name: .customShort("r"), help: "Envelope recipient (the user's address).")
    var recipient = "recipient@example.com"

    @Option(name: .customShort("f"), help: "Envelope sender (empty for <>).")
    var sender = "sender@example.com"

    @Option(name: .customShort("a"), help: "Original envelope recipient.")
    var originalRecipient: String?

    @Option(name: .customLong("recipient-delimiter"), help: "recipient_delimiter for the subaddress extension.")
    var recipientDelimiter = "+"

    @Option(name: .customLong("global-dir"), help: "Where include :global finds scripts.")
    var globalDirectory: String?

    @Option(name: .customLong("mailbox"), help: "A mailbox that exists (for mailboxexists); repeatable.")
    var mailboxes: [String] = []

    @Option(name: .customLong("hostname"), help: "Host name for the environment extension.")
    var hostname = "localhost"

    @Argument(help: "The Sieve script.")
    var script: String

    @Argument(help: "The message (a file in RFC 5322 format, LF or CRLF line ends).")
    var message: String

    func run() throws {
        let compiled = try compileOrExit(script)
        let source: SieveMessage
        do {
            source = try SieveMessage(path: message)
        } catch {
            printError("Fatal: \(error)")
            throw ExitCode(ExitStatus.temporaryFailure)
        }
        let directory = (script as NSString).deletingLastPathComponent
        let existing = Set(mailboxes.map { $0.uppercased() == "INBOX" ? "INBOX" : $0 })
        let environment = SieveDeliveryEnvironment(
            items: SieveDeliveryEnvironment.standardItems(hostname: hostname, remoteIP: nil),
            mailboxExists: { name in existing.contains(name.uppercased() == "INBOX" ? "INBOX" : name) },
            isDuplicate: { _ in false },
            loadInclude: SieveDeliveryEnvironment.includeLoader(
                personal: directory.isEmpty ? "." : directory, global: globalDirectory, cache: SieveScriptCache(),
                maxSize: SieveCompiledScript.defaultMaxScriptSize))
        let envelope = SieveEnvelope(
            from: sender == "<>" ? "" : sender, to: recipient, originalRecipient: originalRecipient)
        do {
            let result = try SieveInterpreter.run(
                compiled, message: source, envelope: envelope, environment: environment,
                settings: SieveRuntimeSettings(recipientDelimiter: recipientDelimiter))
            print(SieveResultFormatter.format(result), terminator: "")
        } catch {
            printError("\(Self.scriptName(script)): \(error)")
            printError("Fatal: failed to execute sieve script")
            throw ExitCode(ExitStatus.temporaryFailure)
        }
    }

    /// `bad` for `/path/bad.sieve`, as Pigeonhole names scripts in messages.
    static func scriptName(_ path: String) -> String {
        let file = (path as NSString).lastPathComponent
        return file.hasSuffix(".sieve") ? String(file.dropLast(6)) : file
    }
}

/// `homing sieve-check SCRIPT...`: compile and report every error.
struct SieveCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sieve-check",
        abstract: "Compile Sieve scripts and report their errors with line and column.",
        discussion: """
            Prints "<script>: line N, column C: error: ..." for each error (up to 30 per script) \
            and nothing for a correct script. Exit status: 0 when every script compiles, 1 when \
            one does not, 75 when a script cannot be read.
            """)

    @Argument(help: "The Sieve scripts to check.")
    var scripts: [String]

    func run() throws {
        var status: Int32 = 0
        for path in scripts {
            guard let source = readScript(path) else {
                status = ExitStatus.temporaryFailure
                continue
            }
            let (_, errors) = SieveCompiledScript.diagnose(source)
            for error in errors {
                print("\(path): \(error.descriptionWithColumn)")
            }
            if !errors.isEmpty, status == 0 { status = 1 }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Reads a script as UTF-8, or prints why not.
private func readScript(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else {
        printError("Fatal: \(path): cannot read the script")
        return nil
    }
    do {
        return try SieveCompiledScript.decodeSource(Array(data))
    } catch {
        printError("\(path): \(error)")
        return nil
    }
}

/// Compiles `path` or prints its errors Pigeonhole's way and exits 89 (Dovecot's fatal status).
private func compileOrExit(_ path: String) throws -> SieveCompiledScript {
    guard let source = readScript(path) else { throw ExitCode(ExitStatus.temporaryFailure) }
    let (compiled, errors) = SieveCompiledScript.diagnose(source)
    guard let compiled, errors.isEmpty else {
        for error in errors {
            printError("\(SieveTestCommand.scriptName(path)): \(error)")
        }
        printError("Fatal: failed to compile sieve script")
        throw ExitCode(89)
    }
    return compiled
}
