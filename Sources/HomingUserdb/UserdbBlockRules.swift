import Foundation
import HomingConfig

/// `skip` of a `userdb { }` block: when the chain passes over it.
public enum UserdbSkip: String, Sendable, Hashable, CaseIterable {
    /// Always try this userdb.
    case never
    /// Skip it when an earlier userdb already found the user.
    case found
    /// Skip it while no earlier userdb has found the user.
    case notFound = "notfound"
}

/// `result_success`, `result_failure` and `result_internalfail`: what the chain does after a
/// userdb answered.
public enum UserdbResultRule: String, Sendable, Hashable, CaseIterable {
    /// Stop; the user exists.
    case returnOK = "return-ok"
    /// Stop; keep the existence state earlier userdbs set (initially "not found").
    case `return` = "return"
    /// Stop; the user does not exist.
    case returnFail = "return-fail"
    /// Go on to the next userdb without changing the existence state.
    case `continue` = "continue"
    /// Mark the user as existing and go on to the next userdb.
    case continueOK = "continue-ok"
    /// Mark the user as not existing and go on to the next userdb.
    case continueFail = "continue-fail"

    /// Whether the chain goes on to the next userdb.
    public var continues: Bool {
        switch self {
        case .returnOK, .return, .returnFail: return false
        case .continue, .continueOK, .continueFail: return true
        }
    }
}

/// The rules of one `userdb { }` block, parsed and checked.
struct UserdbBlockRules: Sendable, Hashable {
    var skip: UserdbSkip
    var resultSuccess: UserdbResultRule
    var resultFailure: UserdbResultRule
    var resultInternalfail: UserdbResultRule

    /// Parses the block's `skip` and `result_*` settings; a bad value is a ``ConfigError``
    /// at the block that names the setting and the accepted values. A passdb's `skip` is
    /// written `authenticated` / `unauthenticated` (Dovecot's words; "authenticated" is "found
    /// by an earlier passdb" for a lookup).
    init(_ settings: UserdbSettings, role: DatabaseRole = .userdb) throws(ConfigError) {
        let kind = role.rawValue
        if role == .passdb {
            switch settings.skip.trimmingCharacters(in: .whitespaces).lowercased() {
            case "never": skip = .never
            case "authenticated": skip = .found
            case "unauthenticated": skip = .notFound
            default:
                throw ConfigError(
                    "invalid passdb skip '\(settings.skip)' (expected one of: never, authenticated, unauthenticated)",
                    at: settings.location)
            }
        } else {
            skip = try Self.parse(settings.skip, setting: "skip", kind: kind, at: settings.location)
        }
        resultSuccess = try Self.parse(
            settings.resultSuccess, setting: "result_success", kind: kind, at: settings.location)
        resultFailure = try Self.parse(
            settings.resultFailure, setting: "result_failure", kind: kind, at: settings.location)
        resultInternalfail = try Self.parse(
            settings.resultInternalfail, setting: "result_internalfail", kind: kind, at: settings.location)
    }

    /// The rule that applies to an answer.
    func rule(for outcome: UserdbOutcome) -> UserdbResultRule {
        switch outcome {
        case .found: return resultSuccess
        case .notFound: return resultFailure
        case .internalFailure: return resultInternalfail
        }
    }

    private static func parse<Value: RawRepresentable & CaseIterable>(
        _ text: String, setting: String, kind: String, at location: ConfigLocation?
    ) throws(ConfigError) -> Value where Value.RawValue == String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Value(rawValue: trimmed.lowercased()) { return value }
        let accepted = Value.allCases.map(\.rawValue).joined(separator: ", ")
        throw ConfigError(
            "invalid \(kind) \(setting) '\(text)' (expected one of: \(accepted))", at: location)
    }
}
