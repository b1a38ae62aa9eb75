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
        var printer = UserOutputPrinter(format: format, userdbOnly: userdbOnly, field: field)
        var status: Int32 = 0
        for address in addresses {
            if address.contains("*") || address.contains("?") {
                do {
                    let users = try await runtime.userdb.iterateUsers()
                    for user in users where fnmatch(address, user, 0) == 0 { print(user) }
                } catch {
                    printError("Error: user listing failed: \(error)")
                    status = ExitStatus.temporaryFailure
                }
                continue
            }
            do {
                // As LMTP looks recipients up: the detail (`alice+tag@`) is not part of the user.
                let split = RecipientAddress(address, delimiters: runtime.settings.recipientDelimiter)
                if let detail = split.detail {
                    printError("Info: \(address): looked up as \(split.user) (detail '\(detail)' removed, as LMTP does)")
                }
                let record = try await runtime.resolver.lookup(split.user)
                var rows = [(String, String)]()
                if addresses.count > 1 || record.user != address { rows.append(("user", record.user)) }
                var sawMail = false
                for field in record.fields {
                    if field.name == "mail" { sawMail = true }
                    rows.append((field.name, field.value))
                }
                if !userdbOnly && !sawMail {
                    let template = runtime.configuration.settings.mailLocation
                    let mail = (try? RecipientResolver.expandMailLocation(
                        template, user: record.user, home: record.home, service: "doveadm",
                        syntax: runtime.configuration.settings.variableSyntax)) ?? template
                    let index = rows.firstIndex { !["user", "uid", "gid", "home"].contains($0.0) } ?? rows.count
                    rows.insert(("mail", mail), at: index)
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
                printer.found(user: record.user, rows: rows)
            } catch {
                switch error {
                case .notFound(let name), .invalidAddress(let name, _):
                    printer.missing("userdb lookup: user \(name) doesn't exist")
                    if status == 0 { status = ExitStatus.noUser }
                case .userdbUnavailable(let reason), .unusable(let reason):
                    printError("Error: userdb lookup(\(address)): temporary failure: \(reason)")
                    status = ExitStatus.temporaryFailure
                }
            }
        }
        printer.finish()
        return status
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
