import ArgumentParser
import Glibc
import HomingApp
import HomingConfig
import HomingDelivery
import HomingSievePlugin

/// `homing user`: what the LMTP server would use for a user, in the layout of `doveadm user`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Look users up in the userdb, as the LMTP server does.",
        discussion: """
            Exit status: 0 when every user was found, 67 when one does not exist, 75 when the \
            userdb could not answer (try again later) or, with -v, when mail could not be \
            delivered to the user (the LMTP server would answer 451). A detail \
            (alice+tag@example.com with recipient_delimiter = +) is removed before the lookup, \
            as LMTP does, and a line on standard error says so. An ADDRESS with * or ? lists \
            the users matching it, where the userdb can list users.
            """)

    @OptionGroup var options: ConfigOption

    @Option(name: .customShort("f"), help: "Output format: tab, json, flow or table.")
    var format: UserOutputFormat = .tab

    @Flag(name: .customShort("u"), help: "Userdb fields only (`userdb: USER` and indented fields); with a mask, list users.")
    var userdbOnly = false

    @Option(name: .customLong("field"), help: "Print only this field's value.")
    var field: String?

    @Flag(name: .customShort("v"), help: "Also show where mail would be stored and as whom.")
    var verbose = false

    @Argument(help: "Addresses to look up, or masks (`*@example.com`) to list.")
    var addresses: [String]

    func run() async throws {
        try finish(with: await CommandRunner.withRuntime(configuration: options.config) { runtime in await lookUp(runtime) })
    }

    private func lookUp(_ runtime: HomingRuntime) async -> Int32 {
        var printer = UserOutputPrinter(
            format: format, userdbOnly: userdbOnly, field: field, toTerminal: isatty(STDOUT_FILENO) == 1)
        // As doveadm: when any argument is a mask, every argument is one, and each user that
        // matches any of them (in any case) is listed once, in the userdb's order.
        if addresses.contains(where: { $0.contains("*") || $0.contains("?") }) {
            do {
                let users = try await runtime.userdb.iterateUsers()
                for user in users where addresses.contains(where: { Self.wildcardMatch(user, $0) }) { print(user) }
                return 0
            } catch {
                printError("Error: user listing failed: \(error)")
                return ExitStatus.temporaryFailure
            }
        }
        var status: Int32 = 0
        for address in addresses {
            printer.startUser()
            do {
                // As LMTP looks recipients up: the detail (`alice+tag@`) is not part of the user.
                let split = RecipientAddress(address, delimiters: runtime.settings.recipientDelimiter)
                if let detail = split.detail {
                    printError("Info: \(address): looked up as \(split.user) (detail '\(detail)' removed, as LMTP does)")
                }
                let record = try await runtime.resolver.lookup(split.user)
                // doveadm's order: `user` when the userdb's name differs from the one looked up,
                // then uid, gid, home and mail (the userdb's, else mail_uid/mail_gid and
                // mail_location; empty when there is none), then the other userdb fields in the
                // userdb's order.
                let settings = runtime.configuration.settings
                var rows: [(String, String)] = []
                if record.user != address { rows.append(("user", record.user)) }
                rows.append(("uid", record.uid ?? settings.mailUID ?? ""))
                rows.append(("gid", record.gid ?? settings.mailGID ?? ""))
                rows.append(("home", record.home ?? ""))
                let mail =
                    record.mail
                    ?? ((try? RecipientResolver.expandMailLocation(
                        settings.mailLocation, user: record.user, home: record.home, service: "doveadm",
                        syntax: settings.variableSyntax))
                        ?? settings.mailLocation)
                rows.append(("mail", mail))
                for field in record.fields where !["uid", "gid", "home", "mail"].contains(field.name) {
                    rows.append((field.name, field.value))
                }
                if verbose {
                    do {
                        let user = try runtime.resolver.prepare(record, detail: nil, service: "doveadm")
                        rows.append(("mail_path", try user.mailLocation.directory(forMailbox: "INBOX")))
                        rows.append(("delivers_as", user.identity.map(\.description) ?? "the homing process (uid \(geteuid()))"))
                        if let sieve = runtime.sieve {
                            rows.append(("sieve_scripts", Self.sieveScripts(for: user, plugin: sieve)))
                        }
                    } catch {
                        rows.append(("delivery_error", Self.describe(error)))
                        // LMTP would answer this user 451: not a user mail can be delivered to.
                        if status == 0 { status = ExitStatus.temporaryFailure }
                    }
                }
                printer.found(
                    lookedUp: address, user: record.user, rows: rows,
                    userdbFields: record.fields.map { ($0.name, $0.value) })
            } catch {
                switch error {
                case .notFound(let name), .invalidAddress(let name, _):
                    printer.missing(name)
                    if status == 0 { status = ExitStatus.noUser }
                case .userdbUnavailable(let reason), .unusable(let reason), .notPermitted(let reason):
                    printError("Error: userdb lookup(\(address)): temporary failure: \(reason)")
                    status = ExitStatus.temporaryFailure
                }
            }
        }
        print(printer.output(width: DoveadmTable.terminalWidth()), terminator: "")
        if !printer.errors.isEmpty { printError(String(printer.errors.dropLast())) }
        return status
    }

    /// doveadm's `wildcard_match_icase`: `*` matches any run of characters, `?` one character,
    /// everything else itself in any case.
    static func wildcardMatch(_ text: String, _ mask: String) -> Bool {
        let text = Array(text.lowercased()), mask = Array(mask.lowercased())
        var t = 0, m = 0
        var star: Int? = nil, resume = 0
        while t < text.count {
            if m < mask.count && (mask[m] == "?" || mask[m] == text[t]) {
                t += 1
                m += 1
            } else if m < mask.count && mask[m] == "*" {
                star = m
                resume = t
                m += 1
            } else if let star {
                m = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while m < mask.count && mask[m] == "*" { m += 1 }
        return m == mask.count
    }

    /// The Sieve scripts a delivery to `user` would run, in order, as the plugin picks them.
    static func sieveScripts(for user: DeliveryUser, plugin: SievePlugin) -> String {
        do {
            let scripts = try plugin.scripts(for: user)
            return scripts.isEmpty ? "none (every message is kept)" : scripts.map(\.description).joined(separator: ", ")
        } catch {
            return "error: \(error)"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let failure = error as? RecipientResolver.Failure, let reason = failure.temporaryReason { return reason }
        return "\(error)"
    }
}

/// `-f`: how `homing user` prints rows.
enum UserOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case tab, json, flow, table
}
