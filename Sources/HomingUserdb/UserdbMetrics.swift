import CoreMetrics

/// What the userdb chain counts, per driver (`passwd-file`, `sql`, `ldap`...):
/// `homing_userdb_lookups_total{driver, result}` (`found`, `not_found`, `temporary_failure`) and
/// `homing_userdb_lookup_duration_seconds{driver}`.
enum UserdbMetrics {
    static func lookup(driver: String, _ answer: UserdbResult, took duration: Duration) {
        let result: String
        switch answer {
        case .found: result = "found"
        case .notFound: result = "not_found"
        case .temporaryFailure: result = "temporary_failure"
        }
        Counter(label: "homing_userdb_lookups_total", dimensions: [("driver", driver), ("result", result)]).increment()
        let (seconds, attoseconds) = duration.components
        Timer(label: "homing_userdb_lookup_duration_seconds", dimensions: [("driver", driver)])
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
