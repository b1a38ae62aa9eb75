import CoreMetrics

/// What the delivery core counts (swift-metrics; exported as Prometheus text by `serve` when
/// `service stats { inet_listener ... }` is configured, and free when nothing is bootstrapped):
///
/// - `homing_recipients_total{result, reason}`: RCPT verdicts (`accepted`, `refused`, `deferred`).
/// - `homing_deliveries_total{result, reason}`: each accepted recipient's outcome
///   (`stored`, `duplicate`, `refused`, `deferred`).
/// - `homing_delivered_bytes_total`: bytes of the copies stored.
/// - `homing_delivery_duration_seconds`: from the end of data to the recipient's outcome.
enum DeliveryMetrics {
    static func recipient(_ verdict: RecipientVerdict) {
        switch verdict {
        case .accepted: Counter(label: "homing_recipients_total", dimensions: [("result", "accepted"), ("reason", "")]).increment()
        case .failed(let failure):
            Counter(label: "homing_recipients_total", dimensions: [("result", failure.metricResult), ("reason", failure.metricReason)])
                .increment()
        }
    }

    static func delivery(_ outcome: DeliveryOutcome, bytes: Int, nanoseconds: Int64) {
        let result: String
        let reason: String
        switch outcome {
        case .stored: (result, reason) = ("stored", "")
        case .duplicate: (result, reason) = ("duplicate", "")
        case .failed(let failure): (result, reason) = (failure.metricResult, failure.metricReason)
        }
        Counter(label: "homing_deliveries_total", dimensions: [("result", result), ("reason", reason)]).increment()
        if bytes > 0 { Counter(label: "homing_delivered_bytes_total").increment(by: bytes) }
        Timer(label: "homing_delivery_duration_seconds").recordNanoseconds(nanoseconds)
    }
}

extension DeliveryFailure {
    /// `refused` or `deferred`.
    var metricResult: String { isTemporary ? "deferred" : "refused" }

    /// The reason as a label value (`no_such_user`, `mailbox_full`, `disk_full`...).
    public var metricReason: String {
        switch self {
        case .refused(.noSuchUser): return "no_such_user"
        case .refused(.mailboxFull), .deferred(.mailboxFull): return "mailbox_full"
        case .refused(.messageTooLarge): return "message_too_large"
        case .refused(.rejected): return "rejected"
        case .deferred(.userdbUnavailable): return "userdb_unavailable"
        case .deferred(.unusableUser): return "unusable_user"
        case .deferred(.diskFull): return "disk_full"
        case .deferred(.concurrencyLimit): return "concurrency_limit"
        case .deferred(.internalError): return "internal_error"
        }
    }
}
