/// Prints a `SieveResult` the way `homing sieve-test` shows it, modelled on Pigeonhole's
/// `sieve-test` output.
///
/// The format is stable (tests and scripts may rely on it):
///
/// ```
/// Performed actions:
///
///  * store message in folder: Lists
///        + add flags: \Seen Work
///        + create folder if it does not exist
///        + preserve implicit keep
///  * redirect message to: carol@example.org
///  * reject message with reason: not wanted
///  * ereject message with reason: not wanted
///  * discard
///  * send vacation response
///        => period: 604800 seconds
///        => subject: Out of office
///        => from: bob@example.com
///        => addresses: bob@example.com, robert@example.com
///        => handle: holiday
///        => mime: yes
///        START MESSAGE
///        I am away.
///        END MESSAGE
///  * mark duplicate: <key> for 1209600 seconds
///
/// Implicit keep:
///
///  * store message in folder: INBOX
/// ```
///
/// - Every section title is followed by an empty line; an empty section prints `  (none)`.
/// - `keep` and the implicit keep print as `store message in folder: INBOX` (the delivery may
///   store into the detail folder instead), followed by their flags as `+ add flags:`.
/// - Sub-lines are indented by eight spaces; `:copy` prints `+ preserve implicit keep` and
///   `:create` prints `+ create folder if it does not exist`.
/// - Vacation shows the period already clamped, only the parameters given, and the reason
///   between `START MESSAGE` and `END MESSAGE`, each line indented.
/// - Duplicate marks (`duplicate` test, RFC 7352) are listed last in the actions section.
/// - The output ends with a newline.
public enum SieveResultFormatter {
    /// The text for `result`.
    public static func format(_ result: SieveResult) -> String {
        var lines = ["Performed actions:", ""]
        if result.actions.isEmpty, result.duplicateMarks.isEmpty {
            lines.append("  (none)")
        }
        for action in result.actions {
            lines += describe(action)
        }
        for mark in result.duplicateMarks {
            lines.append(" * mark duplicate: \(mark.key) for \(mark.period) seconds")
        }
        lines += ["", "Implicit keep:", ""]
        if result.implicitKeep {
            lines += store("INBOX", flags: result.implicitKeepFlags)
        } else {
            lines.append("  (none)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static let indent = "        "

    private static func store(_ mailbox: String, flags: [String]) -> [String] {
        var lines = [" * store message in folder: \(mailbox)"]
        if !flags.isEmpty { lines.append("\(indent)+ add flags: \(flags.joined(separator: " "))") }
        return lines
    }

    private static func describe(_ action: SieveAction) -> [String] {
        switch action {
        case .keep(let flags):
            return store("INBOX", flags: flags)
        case .fileInto(let mailbox, let flags, let create, let copy):
            var lines = store(mailbox, flags: flags)
            if create { lines.append("\(indent)+ create folder if it does not exist") }
            if copy { lines.append("\(indent)+ preserve implicit keep") }
            return lines
        case .redirect(let address, let copy):
            var lines = [" * redirect message to: \(address)"]
            if copy { lines.append("\(indent)+ preserve implicit keep") }
            return lines
        case .reject(let reason, let extended):
            return [" * \(extended ? "ereject" : "reject") message with reason: \(oneLine(reason))"]
        case .discard:
            return [" * discard"]
        case .vacation(let request):
            var lines = [" * send vacation response", "\(indent)=> period: \(request.period) seconds"]
            if let subject = request.subject { lines.append("\(indent)=> subject: \(oneLine(subject))") }
            if let from = request.from { lines.append("\(indent)=> from: \(oneLine(from))") }
            if !request.addresses.isEmpty {
                lines.append("\(indent)=> addresses: \(request.addresses.joined(separator: ", "))")
            }
            if let handle = request.handle { lines.append("\(indent)=> handle: \(oneLine(handle))") }
            if request.mime { lines.append("\(indent)=> mime: yes") }
            lines.append("\(indent)START MESSAGE")
            var body = request.reason.replacingOccurrences(of: "\r\n", with: "\n")
            if body.hasSuffix("\n") { body.removeLast() }
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                lines.append(indent + line)
            }
            lines.append("\(indent)END MESSAGE")
            return lines
        }
    }

    /// Line breaks shown as spaces, so one action stays on one line.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}
