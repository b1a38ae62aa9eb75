import Glibc
import HomingConfig
import HomingDelivery
import HomingQuota
import HomingSubmission
import HomingUserdb
import Logging

/// Runs the command of a quota warning, as Dovecot's quota plugin runs `quota_warning`'s: the
/// first word names a `service NAME { executable = script PROGRAM [ARGS] }` block, and PROGRAM
/// runs with ARGS and then the rest of the warning's words, `%` variables expanded for the user
/// (each word on its own, never through a shell). Where Dovecot connects to the service's
/// socket, Homing runs the script itself. A first word that is an absolute path is run
/// directly.
///
/// It runs as the service's `user` (and `group`, else that user's primary group), else as the
/// mail user the delivery writes as; never as root. Blocking, bounded by a timeout; the outcome
/// is logged and never changes the delivery.
struct QuotaWarningRunner: Sendable {
    let services: [ServiceSettings]
    let syntax: VariableSyntax
    let logger: Logger
    var timeout: Duration = .seconds(30)

    /// What to run for `rule` and `user`, or why it cannot run.
    func command(for rule: QuotaWarningRule, user: DeliveryUser) -> Result<(arguments: [String], runAs: (uid: UInt32, gid: UInt32)?), QuotaWarningError> {
        guard let first = rule.command.first else { return .failure(QuotaWarningError("\(rule.setting): no command")) }
        var values = VariableExpander.userValues(user: user.user, service: "lmtp")
        if let home = user.home { values["home"] = home }
        let expander = VariableExpander(values: values, syntax: syntax)
        var rest: [String] = []
        for word in rule.command.dropFirst() {
            do {
                rest.append(try expander.expand(word))
            } catch {
                return .failure(QuotaWarningError("\(rule.setting): '\(word)': \(error)"))
            }
        }
        let mailUser = user.identity.map { (uid: $0.uid, gid: $0.gid) }
        if let service = services.first(where: { $0.name == first }) {
            guard case .script(let program, let arguments) = service.kind else {
                return .failure(QuotaWarningError("\(rule.setting): service \(first) is not a script service (executable = script PROGRAM)"))
            }
            var runAs = mailUser
            if !service.user.isEmpty {
                guard let uid = SystemAccounts.uid(service.user) else {
                    return .failure(QuotaWarningError("service \(first): user '\(service.user)' does not exist"))
                }
                let gid: UInt32?
                if !service.group.isEmpty {
                    gid = SystemAccounts.gid(service.group)
                    if gid == nil { return .failure(QuotaWarningError("service \(first): group '\(service.group)' does not exist")) }
                } else {
                    gid = Self.primaryGroup(of: uid)
                }
                guard let gid else { return .failure(QuotaWarningError("service \(first): no group for user '\(service.user)'")) }
                runAs = (uid, gid)
            }
            return .success(([program] + arguments + rest, runAs))
        }
        if first.hasPrefix("/") { return .success(([first] + rest, mailUser)) }
        return .failure(
            QuotaWarningError(
                "\(rule.setting): no service \(first) { executable = script PROGRAM } is configured (and '\(first)' is not a program path)"))
    }

    /// Runs the warning for `user`, logging what happened. Blocking.
    func run(_ rule: QuotaWarningRule, reason: String, user: DeliveryUser) {
        var log = logger
        log[metadataKey: "user"] = "\(user.user)"
        switch command(for: rule, user: user) {
        case .failure(let error):
            log.error("quota: cannot run the warning (because \(reason)): \(error)")
        case .success(let (arguments, runAs)):
            log.info("quota: executing warning: \(arguments.joined(separator: " ")) (because \(reason))")
            do {
                switch try ExternalProgram.run(arguments, runAs: runAs, timeout: timeout) {
                case .exited(0, _): break
                case .exited(let status, let output):
                    log.warning("quota: warning command \(arguments[0]) exited with status \(status)\(Self.shown(output))")
                case .signalled(let signal, let output):
                    log.warning("quota: warning command \(arguments[0]) was killed by signal \(signal)\(Self.shown(output))")
                case .timedOut:
                    log.warning("quota: warning command \(arguments[0]) did not finish within \(timeout) and was killed")
                }
            } catch {
                log.error("quota: cannot run the warning command \(arguments[0]): \(error)")
            }
        }
    }

    private static func shown(_ output: String) -> String {
        let trimmed = output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " / ")
        return trimmed.isEmpty ? "" : ": \(trimmed)"
    }

    /// The primary group of `uid` in the passwd database.
    static func primaryGroup(of uid: UInt32) -> UInt32? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return entry.pw_gid
    }
}

/// Why a quota warning's command cannot run.
struct QuotaWarningError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
