/// Where an action was added: for the `(script: line N)` part of Pigeonhole's conflict messages.
struct SieveActionOrigin: Sendable, Hashable {
    /// The script's name (`nil` when the caller gave none).
    var script: String?
    var location: SieveSourceLocation

    /// `script: line N`, or `line N` without a script name.
    var description: String {
        script.map { "\($0): line \(location.line)" } ?? "line \(location.line)"
    }
}

/// Collects the actions of a script run and applies RFC 5228 section 2.10 rules as they come:
/// the implicit keep, duplicate merging, conflicts and the configured limits.
///
/// Rules (each checked when the action is added):
/// - `keep`, `fileinto` and `redirect` without `:copy`, `discard`, `reject`/`ereject` cancel
///   the implicit keep; with `:copy` (RFC 3894) they leave it alone.
/// - A second `keep`, `fileinto` into the same folder, or `redirect` to the same address is
///   merged into the first (RFC 5228 section 2.10.3): flags are united, `:create` kept if any
///   asked for it, and `:copy` only stays when every occurrence had it; the first keeps the
///   header it was given (RFC 5293 section 7). `discard` is recorded once.
/// - `reject`/`ereject` conflict with `keep`, `fileinto`, `redirect` (with or without `:copy`),
///   `vacation` and another `reject` (RFC 5429 section 2.1, RFC 5230 section 4.7), in either
///   order; the conflict is a runtime error, reported as Pigeonhole reports it: at the reject
///   (or, for a vacation after a reject, at the vacation), naming the other action's line.
/// - A second `vacation` is a runtime error (RFC 5230 section 4.7 allows one response).
/// - A `notify` drops the recipients an earlier `notify` already has (RFC 5436 section 2.7),
///   and is left out when none remain.
/// - More than `maxActions` actions (after merging; `discard` not counted) or more than
///   `maxRedirects` distinct redirects is a runtime error.
struct SieveResultBuilder: Sendable {
    private struct Entry: Sendable {
        var action: SieveAction
        var origin: SieveActionOrigin
        var header: SieveEditedHeader?
    }

    private var entries: [Entry] = []
    private(set) var implicitKeep = true
    private(set) var duplicateMarks: [SieveDuplicateMark] = []
    private(set) var notifications: [SieveNotification] = []
    private(set) var warnings: [SieveWarning] = []
    let maxActions: Int
    let maxRedirects: Int

    init(maxActions: Int, maxRedirects: Int) {
        self.maxActions = maxActions
        self.maxRedirects = maxRedirects
    }

    var actions: [SieveAction] { entries.map(\.action) }

    /// The finished result; `implicitKeepFlags` are the flags in effect at the end and
    /// `implicitKeepHeader` the header edits then.
    func result(implicitKeepFlags: [String], implicitKeepHeader: SieveEditedHeader?) -> SieveResult {
        var edited: [Int: SieveEditedHeader] = [:]
        for (index, entry) in entries.enumerated() {
            if let header = entry.header { edited[index] = header }
        }
        return SieveResult(
            actions: actions, implicitKeep: implicitKeep,
            implicitKeepFlags: implicitKeep ? implicitKeepFlags : [], duplicateMarks: duplicateMarks,
            notifications: notifications, editedHeaders: edited,
            implicitKeepHeader: implicitKeep ? implicitKeepHeader : nil, warnings: warnings)
    }

    // MARK: - Adding actions

    /// Adds `keep` with `flags`.
    mutating func keep(flags: [String], at origin: SieveActionOrigin, header: SieveEditedHeader?)
        throws(SieveResultConflict)
    {
        try checkRejectConflict(deliveringAt: origin)
        implicitKeep = false
        for (offset, entry) in entries.enumerated() {
            if case .keep(let existing) = entry.action {
                entries[offset].action = .keep(flags: SieveFlags.union(existing, flags))
                return
            }
        }
        try append(Entry(action: .keep(flags: flags), origin: origin, header: header))
    }

    /// Adds `fileinto`.
    mutating func fileInto(
        mailbox: String, flags: [String], create: Bool, copy: Bool, at origin: SieveActionOrigin,
        header: SieveEditedHeader?
    ) throws(SieveResultConflict) {
        try checkRejectConflict(deliveringAt: origin)
        if !copy { implicitKeep = false }
        for (offset, entry) in entries.enumerated() {
            if case .fileInto(let existingMailbox, let existingFlags, let existingCreate, let existingCopy) =
                entry.action, Self.sameMailbox(existingMailbox, mailbox)
            {
                entries[offset].action = .fileInto(
                    mailbox: existingMailbox, flags: SieveFlags.union(existingFlags, flags),
                    create: existingCreate || create, copy: existingCopy && copy)
                return
            }
        }
        try append(
            Entry(
                action: .fileInto(mailbox: mailbox, flags: flags, create: create, copy: copy), origin: origin,
                header: header))
    }

    /// Adds `redirect`.
    mutating func redirect(address: String, copy: Bool, at origin: SieveActionOrigin, header: SieveEditedHeader?)
        throws(SieveResultConflict)
    {
        try checkRejectConflict(deliveringAt: origin, name: "redirect")
        if !copy { implicitKeep = false }
        var redirects = 0
        for (offset, entry) in entries.enumerated() {
            guard case .redirect(let existing, let existingCopy) = entry.action else { continue }
            if Self.sameAddress(existing, address) {
                entries[offset].action = .redirect(address: existing, copy: existingCopy && copy)
                return
            }
            redirects += 1
        }
        if redirects >= maxRedirects {
            throw SieveResultConflict("total number of redirect actions exceeds the limit of \(maxRedirects)")
        }
        try append(Entry(action: .redirect(address: address, copy: copy), origin: origin, header: header))
    }

    /// Adds `discard`.
    mutating func discard(at origin: SieveActionOrigin) {
        implicitKeep = false
        if !entries.contains(where: { $0.action == .discard }) {
            entries.append(Entry(action: .discard, origin: origin, header: nil))
        }
    }

    /// Adds `reject` / `ereject`.
    mutating func reject(reason: String, extended: Bool, at origin: SieveActionOrigin) throws(SieveResultConflict) {
        for entry in entries {
            switch entry.action {
            case .keep, .fileInto, .redirect:
                throw SieveResultConflict(
                    "reject/ereject action conflicts with other action: the \(Self.name(of: entry.action)) action (\(entry.origin.description)) tries to deliver the message"
                )
            case .vacation:
                throw SieveResultConflict(
                    "reject/ereject action conflicts with other action: the vacation action (\(entry.origin.description)) also sends a response to the sender"
                )
            case .reject:
                throw SieveResultConflict(
                    "duplicate reject/ereject action not allowed (previously triggered one was here: \(entry.origin.description))"
                )
            case .discard:
                continue
            }
        }
        implicitKeep = false
        try append(Entry(action: .reject(reason: reason, extended: extended), origin: origin, header: nil))
    }

    /// Adds `vacation`.
    mutating func vacation(_ request: SieveVacationRequest, at origin: SieveActionOrigin) throws(SieveResultConflict) {
        for entry in entries {
            switch entry.action {
            case .vacation:
                throw SieveResultConflict(
                    "duplicate vacation action not allowed (previously triggered one was here: \(entry.origin.description))")
            case .reject:
                throw SieveResultConflict(
                    "vacation action conflicts with other action: the reject action (\(entry.origin.description)) also sends a response back to the sender"
                )
            default:
                continue
            }
        }
        try append(Entry(action: .vacation(request), origin: origin, header: nil))
    }

    /// The recipients of a new `notify` that no earlier notification has; `nil` when the new
    /// one is a duplicate and is to be left out (Pigeonhole: every recipient already notified,
    /// or none at all while an earlier notification exists).
    func newNotifyRecipients(_ recipients: [SieveMailtoURI.Recipient]) -> [SieveMailtoURI.Recipient]? {
        guard !notifications.isEmpty else { return recipients }
        let remaining = recipients.filter { recipient in
            !notifications.contains { earlier in
                earlier.recipients.contains { Self.sameAddress($0.address, recipient.address) }
            }
        }
        return remaining.isEmpty ? nil : remaining
    }

    /// Adds a composed notification (counted as an action).
    mutating func notify(_ notification: SieveNotification) throws(SieveResultConflict) {
        if entries.filter({ $0.action != .discard }).count + notifications.count >= maxActions {
            throw SieveResultConflict("total number of actions exceeds the limit of \(maxActions)")
        }
        notifications.append(notification)
    }

    /// Records a duplicate-tracking mark (RFC 7352), replacing an earlier one with the same key.
    mutating func mark(_ mark: SieveDuplicateMark) {
        duplicateMarks.removeAll { $0.key == mark.key }
        duplicateMarks.append(mark)
    }

    /// Records a runtime warning.
    mutating func warn(_ warning: SieveWarning) {
        warnings.append(warning)
    }

    /// Re-enables the implicit keep and removes explicit `keep` actions: between scripts of a
    /// sequence an explicit keep only means "go on" (the final keep is decided at the end).
    mutating func carryKeepForward() {
        entries.removeAll {
            if case .keep = $0.action { return true }
            return false
        }
        implicitKeep = true
    }

    // MARK: - Helpers

    /// A `keep`, `fileinto` or `redirect` after a `reject`: the error is the reject's.
    private func checkRejectConflict(deliveringAt origin: SieveActionOrigin, name: String = "store")
        throws(SieveResultConflict)
    {
        for entry in entries {
            guard case .reject = entry.action else { continue }
            throw SieveResultConflict(
                "reject/ereject action conflicts with other action: the \(name) action (\(origin.description)) tries to deliver the message",
                at: entry.origin.location)
        }
    }

    private mutating func append(_ entry: Entry) throws(SieveResultConflict) {
        let counted = entries.filter { $0.action != .discard }.count + notifications.count
        if counted >= maxActions {
            throw SieveResultConflict("total number of actions exceeds the limit of \(maxActions)")
        }
        entries.append(entry)
    }

    /// Pigeonhole's action names: `keep` and `fileinto` are both `store`.
    private static func name(of action: SieveAction) -> String {
        switch action {
        case .keep, .fileInto: return "store"
        case .redirect: return "redirect"
        case .reject: return "reject"
        case .discard: return "discard"
        case .vacation: return "vacation"
        }
    }

    /// Folder names compare exactly, except `INBOX` which is case-insensitive (RFC 3501).
    static func sameMailbox(_ first: String, _ second: String) -> Bool {
        if first == second { return true }
        return first.uppercased() == "INBOX" && second.uppercased() == "INBOX"
    }

    /// Addresses compare with the domain case-insensitive and the local part exact.
    static func sameAddress(_ first: String, _ second: String) -> Bool {
        func split(_ address: String) -> (String, String) {
            guard let at = address.lastIndex(of: "@") else { return (address, "") }
            return (String(address[..<at]), address[address.index(after: at)...].lowercased())
        }
        return split(first) == split(second)
    }
}

/// A conflict or limit found while adding an action; the interpreter turns it into a
/// `SieveRuntimeError` at `location` (the adding command's when `nil`).
struct SieveResultConflict: Error, Sendable {
    var message: String
    var location: SieveSourceLocation?
    init(_ message: String, at location: SieveSourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}
