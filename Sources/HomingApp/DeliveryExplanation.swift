import Foundation

/// What `homing explain` found for one recipient: the steps of the delivery path, each with
/// what it decided and where that comes from, and the replies the recipient would get. Plain
/// data, printed as text or JSON.
public struct DeliveryExplanation: Sendable, Encodable {
    /// One fact of a step: a name, a value and, when it comes from the configuration or the
    /// userdb, its source (`homing.conf:12`, `userdb field quota_rule`).
    public struct Item: Sendable, Encodable, Equatable {
        public var name: String
        public var value: String
        public var source: String?

        public init(_ name: String, _ value: String, source: String? = nil) {
            self.name = name
            self.value = value
            self.source = source
        }
    }

    /// One step: `normalisation`, `userdb`, `user`, `storage`, `quota`, `sieve`, `result`.
    public struct Step: Sendable, Encodable, Equatable {
        public var step: String
        /// The step's conclusion in a few words.
        public var result: String
        public var items: [Item]

        public init(step: String, result: String, items: [Item] = []) {
            self.step = step
            self.result = result
            self.items = items
        }
    }

    /// What would become of the message for this recipient.
    public enum Outcome: String, Sendable, Encodable {
        /// Stored (or discarded by the recipient's Sieve script).
        case delivered
        /// Refused for good: a 5xx for LMTP.
        case refused
        /// Refused for now: a 4xx for LMTP.
        case deferred
    }

    public var address: String
    public var sender: String
    public var messageSize: Int
    public var steps: [Step] = []
    public var outcome: Outcome = .delivered
    /// The reply to `RCPT TO:<address>`.
    public var rcptReply: String = ""
    /// The reply after the message (`250 2.0.0 <address> <session id> Saved`), nil when RCPT
    /// already refused.
    public var dataReply: String?

    /// `homing explain`'s exit status: 0 delivered, 67 no such user, 75 deferred, 77 refused.
    public var exitStatus: Int32 {
        switch outcome {
        case .delivered: return 0
        case .deferred: return ExitStatus.temporaryFailure
        case .refused: return rcptReply.hasPrefix("550 5.1.1") ? ExitStatus.noUser : 77
        }
    }

    /// The text layout: a heading per step with its result, an indented line per item with its
    /// source in brackets, then the LMTP replies.
    public var text: String {
        var out = "Delivery of a \(messageSize)-byte message from <\(sender)> to <\(address)>\n"
        for step in steps {
            out += "\n\(step.step): \(step.result)\n"
            for item in step.items {
                let lines = item.value.split(separator: "\n", omittingEmptySubsequences: false)
                out += "  \(item.name): \(lines.first ?? "")"
                if let source = item.source { out += "  [\(source)]" }
                out += "\n"
                for line in lines.dropFirst() { out += "      \(line)\n" }
            }
        }
        out += "\nLMTP: RCPT TO:<\(address)> -> \(rcptReply)\n"
        if let dataReply { out += "LMTP: after the message -> \(dataReply)\n" }
        out += "outcome: \(outcome.rawValue)\n"
        return out
    }

    /// The JSON layout (`--format json`): the same data, pretty-printed.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
