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
///        + add header field: X-Sieve-Filtered: yes
///        + delete header field: X-Spam-Flag
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
///  * send notification with method 'mailto:'
///        => importance: 1
///        => subject: From the list: news
///        => from: bob@example.com
///        => to: alice@example.org
///        => cc: carol@example.org
///        => header: X-Foo: bar
///        => body: New message
///        => not sent: not sending notification for auto-submitted message
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
///   `keep` and `fileinto "INBOX"` are one store (delivery stores the message once), shown
///   where the first of them was; so is a repeated `fileinto` into the same folder.
/// - Sub-lines are indented by eight spaces; `:copy` prints `+ preserve implicit keep` and
///   `:create` prints `+ create folder if it does not exist`. With `originalHeader` given,
///   header edits (`editheader`) of a store or redirect print as `+ add header field:` and
///   `+ delete header field:` lines.
/// - Vacation shows the period already clamped, only the parameters given, and the reason
///   between `START MESSAGE` and `END MESSAGE`, each line indented.
/// - Notifications (`notify`) follow the other actions, then duplicate marks (`duplicate`).
/// - The output ends with a newline. Pigeonhole's `sieve-test` then prints its closing line
///   (`closingLine`) on standard error.
public enum SieveResultFormatter {
    /// How a `sieve-test` run ended, for `closingLine`.
    public enum Outcome: Sendable, Hashable {
        /// The script ran: `final result: success`.
        case success
        /// The script failed at run time and the message would be kept in INBOX.
        case failedWithImplicitKeep
    }

    /// Pigeonhole's closing line of `sieve-test` (printed on standard error after the result):
    /// `sieve-test: Info: final result: success`.
    public static func closingLine(_ outcome: Outcome) -> String {
        switch outcome {
        case .success: return "sieve-test: Info: final result: success"
        case .failedWithImplicitKeep: return "sieve-test: Info: final result: failed; resolved with successful implicit keep"
        }
    }

    /// The text for `result`. `originalHeader` (the message's header fields) lets header edits
    /// be shown.
    public static func format(_ result: SieveResult, originalHeader: [SieveHeaderField]? = nil) -> String {
        var lines = ["Performed actions:", ""]
        if result.actions.isEmpty, result.duplicateMarks.isEmpty, result.notifications.isEmpty {
            lines.append("  (none)")
        }
        var shownStores: [String] = []
        for (index, action) in result.actions.enumerated() {
            switch action {
            case .keep, .fileInto:
                lines += store(for: index, in: result, shown: &shownStores, originalHeader: originalHeader)
            default:
                lines += describe(action)
                if case .redirect = action, let originalHeader, let header = result.editedHeaders[index] {
                    lines += edits(header, originalHeader)
                }
            }
        }
        for notification in result.notifications {
            lines += describe(notification)
        }
        for mark in result.duplicateMarks {
            lines.append(" * mark duplicate: \(mark.key) for \(mark.period) seconds")
        }
        lines += ["", "Implicit keep:", ""]
        if result.implicitKeep {
            lines += store("INBOX", flags: result.implicitKeepFlags)
            if let originalHeader, let header = result.implicitKeepHeader {
                lines += edits(header, originalHeader)
            }
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

    /// The store the action at `index` belongs to, merged with the later ones into the same
    /// folder; nothing when that folder was shown already.
    private static func store(
        for index: Int, in result: SieveResult, shown: inout [String], originalHeader: [SieveHeaderField]?
    ) -> [String] {
        func mailbox(_ action: SieveAction) -> String? {
            switch action {
            case .keep: return "INBOX"
            case .fileInto(let mailbox, _, _, _): return mailbox
            default: return nil
            }
        }
        guard let target = mailbox(result.actions[index]),
            !shown.contains(where: { SieveResultBuilder.sameMailbox($0, target) })
        else { return [] }
        shown.append(target)
        var flags: [String] = []
        var create = false
        var copyOnly = true
        for action in result.actions where mailbox(action).map({ SieveResultBuilder.sameMailbox($0, target) }) == true {
            switch action {
            case .keep(let given):
                flags = SieveFlags.union(flags, given)
                copyOnly = false
            case .fileInto(_, let given, let wantsCreate, let copy):
                flags = SieveFlags.union(flags, given)
                create = create || wantsCreate
                copyOnly = copyOnly && copy
            default:
                continue
            }
        }
        var lines = store(target, flags: flags)
        if create { lines.append("\(indent)+ create folder if it does not exist") }
        if copyOnly { lines.append("\(indent)+ preserve implicit keep") }
        if let originalHeader, let header = result.editedHeaders[index] {
            lines += edits(header, originalHeader)
        }
        return lines
    }

    /// `+ add header field:` for each added field, `+ delete header field:` for each received
    /// field no longer there.
    private static func edits(_ header: SieveEditedHeader, _ original: [SieveHeaderField]) -> [String] {
        var kept = Set<Int>()
        var lines: [String] = []
        for field in header.fields {
            switch field {
            case .original(let index): kept.insert(index)
            case .added(let added):
                lines.append("\(indent)+ add header field: \(added.name): \(oneLine(added.rawValue))")
            }
        }
        for (index, field) in original.enumerated() where !kept.contains(index) {
            lines.append("\(indent)+ delete header field: \(field.name)")
        }
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

    private static func describe(_ notification: SieveNotification) -> [String] {
        var lines = [
            " * send notification with method 'mailto:'", "\(indent)=> importance: \(notification.importance)",
        ]
        if let subject = notification.message ?? notification.subject {
            lines.append("\(indent)=> subject: \(oneLine(subject))")
        }
        if let from = notification.from { lines.append("\(indent)=> from: \(oneLine(from))") }
        let to = notification.recipients.filter { !$0.carbonCopy }.map(\.full)
        let cc = notification.recipients.filter(\.carbonCopy).map(\.full)
        if !to.isEmpty { lines.append("\(indent)=> to: \(to.joined(separator: ", "))") }
        if !cc.isEmpty { lines.append("\(indent)=> cc: \(cc.joined(separator: ", "))") }
        for header in notification.headers {
            lines.append("\(indent)=> header: \(header.name): \(oneLine(header.rawValue))")
        }
        if let body = notification.body { lines.append("\(indent)=> body: \(oneLine(body))") }
        if case .skip(let reason) = notification.delivery {
            lines.append("\(indent)=> not sent: \(reason)")
        }
        return lines
    }

    /// Line breaks shown as spaces, so one action stays on one line.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}
