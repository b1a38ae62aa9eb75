import HomingConfig

/// `deliver_log_format` (default `msgid=%m: %$`): the text of the one log line per delivery.
///
/// Variables: `%$` the status text (`saved mail to INBOX`), `%m`/`%{msgid}` Message-ID
/// (`unspecified` when missing), `%s`/`%{subject}`, `%f`/`%{from}` (header From),
/// `%e`/`%{from_envelope}`, `%p`/`%{size}` stored size, `%w`/`%{vsize}` size with CRLF,
/// `%%`. Unknown variables are kept as written.
///
/// A Dovecot 2.4 format (`msgid=%{msgid}: %{message}`) is expanded by the 2.4 engine, filters
/// included, with the 2.4 names `message`, `msgid`, `subject`, `from`, `from_envelope`, `size`
/// and `vsize`.
public struct DeliveryLogFormat: Sendable, Hashable {
    public var format: String
    public var syntax: VariableSyntax

    public init(_ format: String, syntax: VariableSyntax = .dovecot23) {
        self.format = format
        self.syntax = syntax
    }

    /// Values for one line.
    public struct Values: Sendable {
        public var status: String
        public var messageID: String?
        public var subject: String?
        public var from: String?
        public var envelopeFrom: String
        public var size: Int?
        public var virtualSize: Int?
        /// The original recipient (Dovecot's `to_envelope`), when known.
        public var toEnvelope: String?

        public init(
            status: String, messageID: String?, subject: String?, from: String?, envelopeFrom: String,
            size: Int?, virtualSize: Int?, toEnvelope: String? = nil
        ) {
            self.toEnvelope = toEnvelope
            self.status = status
            self.messageID = messageID
            self.subject = subject
            self.from = from
            self.envelopeFrom = envelopeFrom
            self.size = size
            self.virtualSize = virtualSize
        }
    }

    /// The formatted line.
    public func render(_ values: Values) -> String {
        if syntax == .dovecot24 {
            let table: [String: String] = [
                "message": values.status, "msgid": values.messageID ?? "unspecified", "subject": values.subject ?? "",
                "from": values.from ?? "", "from_envelope": values.envelopeFrom,
                "size": values.size.map(String.init) ?? "", "vsize": values.virtualSize.map(String.init) ?? "",
                "to_envelope": values.toEnvelope ?? "",
            ]
            return (try? VariableExpander(values: table, syntax: .dovecot24).expand(format)) ?? format
        }
        func value(_ name: String) -> String? {
            switch name {
            case "$": return values.status
            case "m", "msgid": return values.messageID ?? "unspecified"
            case "s", "subject": return values.subject ?? ""
            case "f", "from": return values.from ?? ""
            case "e", "from_envelope": return values.envelopeFrom
            case "p", "size": return values.size.map(String.init) ?? ""
            case "w", "vsize": return values.virtualSize.map(String.init) ?? ""
            case "to_envelope": return values.toEnvelope ?? ""
            default: return nil
            }
        }
        var out = ""
        var index = format.startIndex
        while index < format.endIndex {
            let char = format[index]
            guard char == "%", format.index(after: index) < format.endIndex else {
                out.append(char)
                index = format.index(after: index)
                continue
            }
            let next = format.index(after: index)
            if format[next] == "%" {
                out.append("%")
                index = format.index(after: next)
            } else if format[next] == "{", let close = format[next...].firstIndex(of: "}") {
                let name = String(format[format.index(after: next)..<close])
                out += value(name) ?? String(format[index...close])
                index = format.index(after: close)
            } else {
                out += value(String(format[next])) ?? String(format[index...next])
                index = format.index(after: next)
            }
        }
        return out
    }
}
