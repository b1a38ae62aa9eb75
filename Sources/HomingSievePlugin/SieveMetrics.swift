import CoreMetrics
import HomingSieve

/// What the Sieve plugin counts (exported with the delivery metrics, see README "Metrics"):
///
/// - `homing_sieve_actions_total{action}`: the actions of each result that is carried out
///   (`keep`, `fileinto`, `redirect`, `reject`, `ereject`, `discard`, `vacation`, `notify`,
///   and `implicit_keep`).
/// - `homing_sieve_errors_total{kind}`: why a delivery did not follow the scripts:
///   `compile` (the user's script does not compile or cannot be read), `runtime` (a script
///   failed while running), `invalid_folder` (a `fileinto` names a folder that cannot exist),
///   `settings` (the user's Sieve settings do not resolve), `deferred` (a link where the
///   tracking file or the user's log should be: the delivery waits).
enum SieveMetrics {
    enum ErrorKind: String {
        case compile, runtime, settings, deferred
        case invalidFolder = "invalid_folder"
    }

    static func error(_ kind: ErrorKind) {
        Counter(label: "homing_sieve_errors_total", dimensions: [("kind", kind.rawValue)]).increment()
    }

    /// Counts the actions of `result` (called once per result carried out or refused).
    static func actions(of result: SieveResult) {
        for action in result.actions {
            let name: String
            switch action {
            case .keep: name = "keep"
            case .fileInto: name = "fileinto"
            case .redirect: name = "redirect"
            case .reject(_, let extended): name = extended ? "ereject" : "reject"
            case .discard: name = "discard"
            case .vacation: name = "vacation"
            }
            count(name)
        }
        for _ in result.notifications { count("notify") }
        if result.implicitKeep { count("implicit_keep") }
    }

    private static func count(_ action: String) {
        Counter(label: "homing_sieve_actions_total", dimensions: [("action", action)]).increment()
    }
}
