/// One request of Postfix's policy delegation protocol (`check_policy_service`, SMTPD_POLICY_README):
/// `name=value` lines ended by an empty line. Pure value.
public struct PolicyRequest: Sendable, Hashable {
    /// The attributes in the order they came.
    public var attributes: [(name: String, value: String)]

    public init(attributes: [(name: String, value: String)]) {
        self.attributes = attributes
    }

    /// The first value of `name`, nil when absent.
    public subscript(name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// `protocol_state`: `RCPT`, `END-OF-MESSAGE`, ... (the first one given).
    public var protocolState: String? { self["protocol_state"] }

    /// `recipient` (the first one given), nil when absent or empty (Postfix sends it empty at
    /// end of data when the message has several recipients).
    public var recipient: String? { self["recipient"].flatMap { $0.isEmpty ? nil : $0 } }

    /// `size`: the message size Postfix knows (MAIL FROM's SIZE= at RCPT time, the real size at
    /// end of data); 0 when absent or not a number (the last one given counts, as Dovecot reads it).
    public var size: Int64 {
        guard let text = attributes.last(where: { $0.name == "size" })?.value, let size = Int64(text), size >= 0 else {
            return 0
        }
        return size
    }

    public static func == (lhs: PolicyRequest, rhs: PolicyRequest) -> Bool {
        lhs.attributes.elementsEqual(rhs.attributes) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for attribute in attributes {
            hasher.combine(attribute.name)
            hasher.combine(attribute.value)
        }
    }
}

/// Cuts the byte stream of a policy connection into ``PolicyRequest``s: lines ended by LF (a CR
/// before it is dropped), a request ended by an empty line. A line longer than
/// ``maximumLineLength`` or a request with more than ``maximumAttributes`` attributes is a
/// protocol error: the connection is to be closed. Pure.
public struct PolicyRequestFramer: Sendable {
    /// Postfix's attribute lines are short; this bounds memory per connection.
    public static let maximumLineLength = 8 * 1024
    public static let maximumAttributes = 256

    /// Why the input cannot be read any further.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case lineTooLong
        case tooManyAttributes

        public var description: String {
            switch self {
            case .lineTooLong: return "policy request line longer than \(PolicyRequestFramer.maximumLineLength) bytes"
            case .tooManyAttributes: return "policy request with more than \(PolicyRequestFramer.maximumAttributes) attributes"
            }
        }
    }

    private var line: [UInt8] = []
    private var attributes: [(name: String, value: String)] = []

    public init() {}

    /// Feeds bytes; returns the requests they complete, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(Failure) -> [PolicyRequest] where Bytes.Element == UInt8 {
        var requests: [PolicyRequest] = []
        for byte in bytes {
            guard byte == 10 else {
                guard line.count < Self.maximumLineLength else { throw .lineTooLong }
                line.append(byte)
                continue
            }
            if line.last == 13 { line.removeLast() }
            if line.isEmpty {
                requests.append(PolicyRequest(attributes: attributes))
                attributes = []
                continue
            }
            guard attributes.count < Self.maximumAttributes else { throw .tooManyAttributes }
            let text = String(decoding: line, as: UTF8.self)
            line = []
            // A line without `=` is not an attribute (Postfix never sends one): ignored.
            guard let equals = text.firstIndex(of: "=") else { continue }
            attributes.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
        }
        return requests
    }
}
