/// Collects the actions of a script run and applies RFC 5228 section 2.10 rules as they come:
/// the implicit keep, duplicate merging, conflicts and the configured limits.
///
/// Rules (each checked when the action is added, so the error names the offending command):
/// - `keep`, `fileinto` and `redirect` without `:copy`, `discard`, `reject`/`ereject` cancel
///   the implicit keep; with `:copy` (RFC 3894) they leave it alone.
/// - A second `keep`, `fileinto` into the same folder, or `redirect` to the same address is
///   merged into the first (RFC 5228 section 2.10.3): flags are united, `:create` kept if any
///   asked for it, and `:copy` only stays when every occurrence had it. `discard` is recorded once.
/// - `reject`/`ereject` conflict with `keep`, `fileinto`, `redirect` (with or without `:copy`),
///   `vacation` and another `reject` (RFC 5429 section 2.1, RFC 5230 section 4.7), in either
///   order; the conflict is a runtime error, as in Pigeonhole.
/// - A second `vacation` is a runtime error (RFC 5230 section 4.7 allows one response).
/// - More than `maxActions` actions (after merging; `discard` not counted) or more than
///   `maxRedirects` distinct redirects is a runtime error.
struct SieveResultBuilder: Sendable {
    private(set) var actions: [SieveAction] = []
    private(set) var implicitKeep = true
    private(set) var duplicateMarks: [SieveDuplicateMark] = []
    let maxActions: Int
    let maxRedirects: Int

    init(maxActions: Int, maxRedirects: Int) {
        self.maxActions = maxActions
        self.maxRedirects = maxRedirects
    }

    /// The finished result; `implicitKeepFlags` are the flags in effect at the end.
    func result(implicitKeepFlags: [String]) -> SieveResult {
        SieveResult(
            actions: actions, implicitKeep: implicitKeep,
            implicitKeepFlags: implicitKeep ? implicitKeepFlags : [], duplicateMarks: duplicateMarks)
    }

    // MARK: - Adding actions

    /// Adds `keep` with `flags`.
    mutating func keep(flags: [String]) throws(SieveResultConflict) {
        try checkRejectConflict(with: "keep")
        implicitKeep = false
        for (offset, action) in actions.enumerated() {
            if case .keep(let existing) = action {
                actions[offset] = .keep(flags: SieveFlags.union(existing, flags))
                return
            }
        }
        try append(.keep(flags: flags))
    }

    /// Adds `fileinto`.
    mutating func fileInto(mailbox: String, flags: [String], create: Bool, copy: Bool)
        throws(SieveResultConflict)
    {
        try checkRejectConflict(with: "fileinto")
        if !copy { implicitKeep = false }
        for (offset, action) in actions.enumerated() {
            if case .fileInto(let existingMailbox, let existingFlags, let existingCreate, let existingCopy) =
                action, Self.sameMailbox(existingMailbox, mailbox)
            {
                actions[offset] = .fileInto(
                    mailbox: existingMailbox, flags: SieveFlags.union(existingFlags, flags),
                    create: existingCreate || create, copy: existingCopy && copy)
                return
            }
        }
        try append(.fileInto(mailbox: mailbox, flags: flags, create: create, copy: copy))
    }

    /// Adds `redirect`.
    mutating func redirect(address: String, copy: Bool) throws(SieveResultConflict) {
        try checkRejectConflict(with: "redirect")
        if !copy { implicitKeep = false }
        var redirects = 0
        for (offset, action) in actions.enumerated() {
            guard case .redirect(let existing, let existingCopy) = action else { continue }
            if Self.sameAddress(existing, address) {
                actions[offset] = .redirect(address: existing, copy: existingCopy && copy)
                return
            }
            redirects += 1
        }
        if redirects >= maxRedirects {
            throw SieveResultConflict(
                "total number of redirect actions exceeds the limit of \(maxRedirects)")
        }
        try append(.redirect(address: address, copy: copy))
    }

    /// Adds `discard`.
    mutating func discard() {
        implicitKeep = false
        if !actions.contains(.discard) { actions.append(.discard) }
    }

    /// Adds `reject` / `ereject`.
    mutating func reject(reason: String, extended: Bool) throws(SieveResultConflict) {
        let name = extended ? "ereject" : "reject"
        for action in actions {
            switch action {
            case .keep, .fileInto, .redirect:
                throw SieveResultConflict(
                    "\(name) action conflicts with other action: the \(Self.name(of: action)) action tries to deliver the message"
                )
            case .reject, .vacation:
                throw SieveResultConflict(
                    "\(name) action conflicts with other action: the \(Self.name(of: action)) action also sends a response to the sender"
                )
            case .discard:
                continue
            }
        }
        implicitKeep = false
        try append(.reject(reason: reason, extended: extended))
    }

    /// Adds `vacation`.
    mutating func vacation(_ request: SieveVacationRequest) throws(SieveResultConflict) {
        for action in actions {
            switch action {
            case .vacation:
                throw SieveResultConflict("duplicate vacation action: only one response is allowed")
            case .reject(_, let extended):
                throw SieveResultConflict(
                    "vacation action conflicts with other action: the \(extended ? "ereject" : "reject") action also sends a response to the sender"
                )
            default:
                continue
            }
        }
        try append(.vacation(request))
    }

    /// Records a duplicate-tracking mark (RFC 7352), replacing an earlier one with the same key.
    mutating func mark(_ mark: SieveDuplicateMark) {
        duplicateMarks.removeAll { $0.key == mark.key }
        duplicateMarks.append(mark)
    }

    /// Re-enables the implicit keep and removes explicit `keep` actions: between scripts of a
    /// sequence an explicit keep only means "go on" (the final keep is decided at the end).
    mutating func carryKeepForward() {
        actions.removeAll {
            if case .keep = $0 { return true }
            return false
        }
        implicitKeep = true
    }

    // MARK: - Helpers

    private func checkRejectConflict(with name: String) throws(SieveResultConflict) {
        for case .reject(_, let extended) in actions {
            throw SieveResultConflict(
                "\(name) action conflicts with other action: the \(extended ? "ereject" : "reject") action rejects the message"
            )
        }
    }

    private mutating func append(_ action: SieveAction) throws(SieveResultConflict) {
        let counted = actions.filter { $0 != .discard }.count
        if counted >= maxActions {
            throw SieveResultConflict("total number of actions exceeds the limit of \(maxActions)")
        }
        actions.append(action)
    }

    private static func name(of action: SieveAction) -> String {
        switch action {
        case .keep: return "keep"
        case .fileInto: return "fileinto"
        case .redirect: return "redirect"
        case .reject(_, let extended): return extended ? "ereject" : "reject"
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
/// `SieveRuntimeError` at the command's location.
struct SieveResultConflict: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}
