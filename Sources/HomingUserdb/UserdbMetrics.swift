import CoreMetrics

/// What the userdb chain counts, per driver (`passwd-file`, `sql`, `ldap`...):
/// `homing_userdb_lookups_total{driver, result}` (`found`, `not_found`, `temporary_failure`) and
/// `homing_userdb_lookup_duration_seconds{driver}`; a passdb chain's lookups are counted as
/// `homing_passdb_lookups_total` and `homing_passdb_lookup_duration_seconds`.
enum UserdbMetrics {
    static func lookup(driver: String, _ answer: UserdbResult, took duration: Duration, role: DatabaseRole = .userdb) {
        let result: String
        switch answer {
        case .found: result = "found"
        case .notFound: result = "not_found"
        case .temporaryFailure: result = "temporary_failure"
        }
        Counter(label: "homing_\(role.rawValue)_lookups_total", dimensions: [("driver", driver), ("result", result)]).increment()
        let (seconds, attoseconds) = duration.components
        Timer(label: "homing_\(role.rawValue)_lookup_duration_seconds", dimensions: [("driver", driver)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
