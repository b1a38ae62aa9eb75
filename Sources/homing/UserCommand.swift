import ArgumentParser
import Glibc
import HomingConfig
import HomingDelivery
import HomingServer
import HomingUserdb
import Logging

/// `homing user`: what the LMTP server would use for a user, in the layout of `doveadm user`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Look users up in the userdb, as the LMTP server does.",
        discussion: """
            Exit status: 0 when every user was found, 67 when one does not exist, 75 when the \
            userdb could not answer (try again later). An ADDRESS with * or ? lists the users \
            matching it, where the userdb can list users.
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
        let loaded = try loadConfiguration(options.config)
        let logger = Logger(label: "homing") { label in
            DovecotStyleLogHandler(label: label, logLevel: .error)
        }
        let runtime: HomingRuntime
        do {
            runtime = try HomingRuntime(configuration: loaded, registry: userdbRegistry(), logger: logger, threads: 4)
        } catch {
            printError("Fatal: \(error)")
            throw ExitCode(ExitStatus.configError)
        }
        let status = await lookUp(runtime)
        await runtime.shutdown()
        if status != 0 { throw ExitCode(status) }
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
                let record = try await runtime.resolver.lookup(address)
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
                        if runtime.configuration.settings.mailPlugins.contains("sieve") {
                            rows.append(("sieve_scripts", Self.sieveScripts(for: user, settings: runtime.configuration.settings)))
                        }
                    } catch {
                        rows.append(("delivery_error", Self.describe(error)))
                    }
                }
                printer.found(user: record.user, rows: rows)
            } catch {
                switch error {
                case .notFound(let name), .invalidAddress(let name, _):
                    printer.missing("userdb lookup: user \(name) doesn't exist")
                    if status == 0 { status = ExitStatus.noUser }
                case .temporary(let reason):
                    printError("Error: userdb lookup(\(address)): temporary failure: \(reason)")
                    status = ExitStatus.temporaryFailure
                }
            }
        }
        printer.finish()
        return status
    }

    /// The Sieve scripts a delivery to `user` would run, in order, as the plugin finds them.
    static func sieveScripts(for user: DeliveryUser, settings: HomingSettings) -> String {
        do {
            let sieve = try SieveUserSettings.resolve(for: user, settings: settings)
            var scripts = SievePlugin.expandScriptList(sieve.before)
            if let personal = sieve.personalScript, access(personal, R_OK) == 0 {
                scripts.append(personal)
            } else if let fallback = sieve.defaultScript {
                scripts.append(fallback + " (sieve_default: no \(sieve.personalScript ?? "personal script"))")
            }
            scripts += SievePlugin.expandScriptList(sieve.after)
            return scripts.isEmpty ? "none (every message is kept)" : scripts.joined(separator: ", ")
        } catch {
            return "error: \(error)"
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let failure = error as? RecipientResolver.Failure, case .temporary(let reason) = failure { return reason }
        return "\(error)"
    }
}

/// `-f`: how `homing user` prints rows.
enum UserOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case tab, json, flow, table
}
