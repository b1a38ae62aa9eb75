import ArgumentParser
import Glibc
import HomingApp
import HomingConfig
import HomingDelivery
import HomingFileSystem
import HomingMaildir
import HomingQuota
import HomingQuotaPlugin

/// `homing quota get|recalc ADDRESS`: a user's quota as the LMTP server sees it, like
/// `doveadm quota get|recalc`.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract: "Show or recalculate a user's quota usage (Maildir++ maildirsize).",
        subcommands: [QuotaGetCommand.self, QuotaRecalcCommand.self])
}

/// `homing quota get ADDRESS`.
struct QuotaGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print used and limit, storage (KiB) and messages, as `doveadm quota get` does.",
        discussion: """
            Columns: quota root name, type (STORAGE in kibibytes, MESSAGE in messages), value, \
            limit (- for none) and percent used. --bytes prints STORAGE in bytes. Exit status: 0, \
            67 when the user does not exist, 75 when the userdb or the maildir could not be read.
            """)

    @OptionGroup var options: ConfigOption

    @Flag(help: "Print storage in bytes instead of kibibytes.")
    var bytes = false

    @Argument(help: "The user's address, as the LMTP server would look it up.")
    var address: String

    func run() async throws {
        let status = await withQuotaUser(options.config, address) { user, plugin, config, runtime in
            let contents = try await runtime.threadPool.runIfActive {
                try QuotaPlugin.peekStatus(of: user, config: config)
            }
            print(QuotaReport(name: plugin.root.name, contents: contents, config: config, bytes: bytes).text, terminator: "")
        }
        try finish(with: status)
    }
}

/// `homing quota recalc ADDRESS`.
struct QuotaRecalcCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalc",
        abstract: "Rewrite the user's maildirsize from a scan of the maildir.",
        discussion: """
            When the usage crosses a quota_warning limit (the old maildirsize's figures against \
            the scan's), that warning runs: this is where Homing sees usage go down, for the \
            warnings written with a leading - (quota_warning = -storage=90%% ...).
            """)

    @OptionGroup var options: ConfigOption

    @Argument(help: "The user's address.")
    var address: String

    func run() async throws {
        let status = await withQuotaUser(options.config, address) { user, plugin, config, runtime in
            _ = try await runtime.threadPool.runIfActive {
                try plugin.recalculateAndWarn(user, config: config)
            }
        }
        try finish(with: status)
    }
}

/// The table `homing quota get` prints, as `doveadm quota get` does: STORAGE in KiB rounded
/// up (Dovecot's `quota_get_resource`: 888 bytes are 1 KiB, 616,100 bytes 602), the percentage
/// from the figures shown (`value * 100 / limit`, rounded down), doveadm's table layout.
struct QuotaReport {
    var name: String
    var contents: MaildirSizeContents
    var config: QuotaConfiguration
    var bytes: Bool
    /// The width the table fills (doveadm's: the terminal's, else 80).
    var width = DoveadmTable.terminalWidth()

    var text: String {
        let limits = contents.limits
        let storageValue = bytes ? contents.usage.bytes : Self.kibibytes(contents.usage.bytes)
        let storageLimit = bytes ? limits.bytes : Self.kibibytes(limits.bytes)
        var table = DoveadmTable(
            columns: [
                .init(title: "Quota name"), .init(title: "Type"), .init(title: "Value", rightAligned: true),
                .init(title: "Limit", rightAligned: true), .init(title: "%", rightAligned: true),
            ], width: width)
        table.rows = [
            Self.row(name, "STORAGE", value: storageValue, limit: storageLimit),
            Self.row(name, "MESSAGE", value: contents.usage.messages, limit: limits.messages),
        ]
        return table.text
    }

    /// One resource's row: `-` and 0% without a limit.
    static func row(_ name: String, _ type: String, value: Int64, limit: Int64) -> [String] {
        guard limit > 0 else { return [name, type, String(value), "-", "0"] }
        return [name, type, String(value), String(limit), String(value * 100 / limit)]
    }

    /// Bytes in KiB, rounded up as Dovecot does (`(bytes + 1023) / 1024`).
    static func kibibytes(_ bytes: Int64) -> Int64 {
        bytes > 0 ? (bytes + 1023) / 1024 : bytes / 1024
    }
}

/// Looks the user up as LMTP does and runs `body` with the quota plugin's view of them.
/// Returns the exit status.
private func withQuotaUser(
    _ configPath: String, _ address: String,
    _ body: (DeliveryUser, QuotaPlugin, QuotaConfiguration, HomingRuntime) async throws -> Void
) async -> Int32 {
    await CommandRunner.withRuntime(configuration: configPath, threads: 2) { runtime in
        let plugin: QuotaPlugin
        do {
            plugin = try runtime.quota ?? QuotaPlugin(
                settings: runtime.settings, threadPool: runtime.threadPool, logger: runtime.logger)
        } catch {
            printError("Fatal: plugin { }: \(error)")
            return ExitStatus.configError
        }
        let user: DeliveryUser
        do throws(RecipientResolver.Failure) {
            user = try await runtime.resolver.resolve(address: address)
        } catch {
            switch error {
            case .notFound(let name), .invalidAddress(let name, _):
                printError("Error: userdb lookup: user \(name) doesn't exist")
                return ExitStatus.noUser
            case .userdbUnavailable(let reason), .unusable(let reason):
                printError("Error: userdb lookup(\(address)): temporary failure: \(reason)")
                return ExitStatus.temporaryFailure
            case .notPermitted(let reason):
                printError("Error: \(reason)")
                printError("Run this as root or as the user's uid")
                return ExitStatus.noPermission
            }
        }
        let config: QuotaConfiguration
        do {
            config = try plugin.configuration(for: user)
        } catch {
            printError("Error: user \(user.user): invalid userdb value: \(error)")
            return ExitStatus.temporaryFailure
        }
        do {
            try await body(user, plugin, config, runtime)
            return 0
        } catch {
            printError("Error: \(user.user): \(error)")
            if isPermissionProblem(error) {
                // As doveadm's EX_NOPERM: retrying will not help, another identity will.
                printError("Run this as root or as the user's uid (\(user.identity.map { "uid \($0.uid)" } ?? "the mail owner"))")
                return ExitStatus.noPermission
            }
            return ExitStatus.temporaryFailure
        }
    }
}

/// Whether `error` means "not allowed as this process" (not root for the user's uid, or a
/// directory or file this identity may not read), rather than a passing failure.
private func isPermissionProblem(_ error: any Error) -> Bool {
    switch error {
    case let error as FilesystemIdentityError:
        switch error {
        case .notRootForUID, .notRootForGID: return true
        default: return false
        }
    case let error as FileAccessError:
        return error.errno == EACCES || error.errno == EPERM
    case let error as MaildirError:
        return error.errno == EACCES || error.errno == EPERM
    default:
        return false
    }
}
