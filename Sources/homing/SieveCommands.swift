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
            the format), then "sieve-test: Info: final result: success" on standard error, where \
            warnings go too. Nothing is stored or sent, and duplicate tracking is not consulted. \
            include looks for personal scripts next to SCRIPT and global ones in --global-dir. \
            The extensions are Pigeonhole's default set, changed with -x. Exit status: 0 when \
            the script ran, 89 when it does not compile (errors on standard error as \
            "<script>: line N: error: ..."), 1 when it failed at run time (the message would be \
            kept), 75 when the files cannot be read.
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

    @Option(
        name: .customShort("x"), parsing: .unconditional,
        help: "Extensions, as sieve_extensions: \"+editheader -enotify\" changes the default set, a list without +/- replaces it.")
    var extensions: String?

    @Argument(help: "The Sieve script.")
    var script: String

    @Argument(help: "The message (a file in RFC 5322 format, LF or CRLF line ends).")
    var message: String

    func run() throws {
        let available = try extensionSet(extensions, program: "sieve-test")
        let options = SieveCompileOptions(extensions: available, scope: .personal)
        let compiled = try compileOrExit(script, options: options)
        let source: SieveMessage
        do {
            source = try SieveMessage(path: message)
        } catch {
            printError("sieve-test: Fatal: \(error)")
            throw ExitCode(ExitStatus.temporaryFailure)
        }
        let directory = (script as NSString).deletingLastPathComponent
        let existing = Set(mailboxes.map { $0.uppercased() == "INBOX" ? "INBOX" : $0 })
        var globalOptions = options
        globalOptions.scope = .global
        let environment = SieveDeliveryEnvironment(
            items: SieveDeliveryEnvironment.standardItems(hostname: hostname, remoteIP: nil),
            mailboxExists: { name in existing.contains(name.uppercased() == "INBOX" ? "INBOX" : name) },
            isDuplicate: { _ in false },
            loadInclude: SieveDeliveryEnvironment.includeLoader(
                personal: directory.isEmpty ? "." : directory, global: globalDirectory, cache: SieveScriptCache(),
                personalOptions: options, globalOptions: globalOptions,
                compiled: { _, included in
                    for line in SieveScriptReport.compileWarnings(included.warnings, scriptName: included.name ?? "include") {
                        printError(line)
                    }
                }))
        let envelope = SieveEnvelope(
            from: sender == "<>" ? "" : sender, to: recipient, originalRecipient: originalRecipient)
        let result: SieveResult
        do {
            result = try SieveInterpreter.run(
                compiled, message: source, envelope: envelope, environment: environment,
                settings: SieveRuntimeSettings(recipientDelimiter: recipientDelimiter, hostname: hostname))
        } catch {
            printError("\(SieveScriptReport.scriptName(script)): \(error)")
            printError(SieveResultFormatter.closingLine(.failedWithImplicitKeep))
            throw ExitCode(1)
        }
        for line in SieveScriptReport.runtimeWarnings(result.warnings) { printError(line) }
        print(SieveResultFormatter.format(result, originalHeader: source.headerFields), terminator: "")
        printError(SieveResultFormatter.closingLine(.success))
    }
}

/// `homing sieve-check SCRIPT...`: compile and report every error.
struct SieveCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sieve-check",
        abstract: "Compile Sieve scripts and report their errors with line and column.",
        discussion: """
            Prints "<script>: line N, column C: error: ..." for each error (up to 30 per script) \
            and nothing for a correct script; warnings go to standard error. The extensions are \
            Pigeonhole's default set, changed with -x as for sieve-test. Exit status: 0 when \
            every script compiles, 1 when one does not, 75 when a script cannot be read.
            """)

    @Option(
        name: .customShort("x"), parsing: .unconditional,
        help: "Extensions, as sieve_extensions: \"+editheader -enotify\" changes the default set, a list without +/- replaces it.")
    var extensions: String?

    @Argument(help: "The Sieve scripts to check.")
    var scripts: [String]

    func run() throws {
        let options = SieveCompileOptions(extensions: try extensionSet(extensions, program: "sieve-check"), scope: .personal)
        var status: Int32 = 0
        for path in scripts {
            guard let source = readScript(path, program: "sieve-check") else {
                status = ExitStatus.temporaryFailure
                continue
            }
            let (_, errors, warnings) = SieveCompiledScript.diagnose(source, options: options)
            for warning in warnings {
                printError("\(path): \(warning)")
            }
            for error in errors {
                print("\(path): \(error.descriptionWithColumn)")
            }
            if !errors.isEmpty, status == 0 { status = 1 }
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// The extensions `-x` allows: Pigeonhole's default set, edited or replaced as
/// `sieve_extensions` would be. An unknown name is a usage error.
private func extensionSet(_ value: String?, program: String) throws -> SieveExtensionSet {
    do {
        let parsed = try SieveExtensionSet.parse(extensions: value)
        for warning in parsed.warnings { printError("\(program): Warning: \(warning.replacingOccurrences(of: "sieve_extensions", with: "-x"))") }
        return parsed.set
    } catch {
        throw ValidationError("\(error)".replacingOccurrences(of: "sieve_extensions", with: "-x"))
    }
}

/// Reads a script as UTF-8, or prints why not.
private func readScript(_ path: String, program: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else {
        printError("\(program): Fatal: \(path): cannot read the script")
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
/// Warnings go to standard error as Pigeonhole prints them.
private func compileOrExit(_ path: String, options: SieveCompileOptions) throws -> SieveCompiledScript {
    guard let source = readScript(path, program: "sieve-test") else { throw ExitCode(ExitStatus.temporaryFailure) }
    let name = SieveScriptReport.scriptName(path)
    switch SieveCompileFailure.compile(source, options: options) {
    case .success(var compiled):
        compiled.name = name
        for line in SieveScriptReport.compileWarnings(compiled.warnings, scriptName: name) { printError(line) }
        return compiled
    case .failure(let failure):
        for line in SieveScriptReport.compileWarnings(failure.warnings, scriptName: name) + failure.lines(scriptName: name) {
            printError(line)
        }
        printError("sieve-test: Fatal: failed to compile sieve script")
        throw ExitCode(89)
    }
}
