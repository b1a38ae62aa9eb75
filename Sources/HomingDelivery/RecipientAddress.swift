import HomingConfig

/// A recipient address split the way LMTP delivery needs it: the user part without its
/// detail (`alice+lists@example.com` → `alice@example.com`, detail `lists`).
public struct RecipientAddress: Sendable, Hashable {
    /// The address as the client sent it (no brackets, no source route).
    public var address: String
    /// The address with the detail removed, case as sent: what is looked up, and what the
    /// `User doesn't exist:` reply names.
    public var user: String
    /// The detail (`lists`), when a `recipient_delimiter` character splits the local part.
    public var detail: String?

    /// Splits `address` at the first of the `delimiters` characters in its local part.
    /// An empty user part (`+tag@example.com`) is not split.
    public init(_ address: String, delimiters: String) {
        self.address = address
        let at = address.lastIndex(of: "@")
        let localPart = at.map { address[..<$0] } ?? address[...]
        let domainPart = at.map { address[$0...] } ?? ""
        guard !delimiters.isEmpty,
            let split = localPart.firstIndex(where: { delimiters.contains($0) }),
            split != localPart.startIndex
        else {
            self.user = address
            self.detail = nil
            return
        }
        self.user = String(localPart[..<split]) + domainPart
        self.detail = String(localPart[localPart.index(after: split)...])
    }

    /// The part of `user` before the last `@` (`%n`).
    public var username: String {
        VariableExpander.splitUser(user).username
    }

    /// The part of `user` after the last `@` (`%d`), or empty.
    public var domain: String {
        VariableExpander.splitUser(user).domain
    }
}

/// Checks for values that end up inside file system paths through `%` variables
/// (`/var/vmail/%d/%n`): user names, domains and details come from the network or a userdb
/// and must not be able to name another directory.
public enum PathComponentCheck {
    /// Why `value` cannot be used as one path component, or `nil` when it can.
    public static func problem(in value: String) -> String? {
        if value == "." || value == ".." { return "'\(value)' names a directory" }
        for scalar in value.unicodeScalars {
            if scalar == "/" { return "contains '/'" }
            if scalar.value == 0 { return "contains a NUL byte" }
            if scalar.value < 0x20 || scalar.value == 0x7F { return "contains a control character" }
        }
        return nil
    }

    /// The first part of `user@domain` that cannot be one path component, with its value and
    /// the problem; an empty domain (a bare local part) is fine.
    public static func problem(username: String, domain: String) -> (part: String, value: String, problem: String)? {
        if let problem = problem(in: username) { return ("user name", username, problem) }
        if !domain.isEmpty, let problem = problem(in: domain) { return ("domain", domain, problem) }
        return nil
    }
}
