/// A path split where the administrator's part ends and the user's part begins.
///
/// The rule, the same for every file Homing opens, creates, renames, locks or scans below a
/// user's home: the home directory and the way to it belong to the administrator and may be
/// reached through symbolic links; nothing inside the home may be one. A path outside the home
/// (a mail root under `/var/vmail` for a user without a home, an `INBOX=` elsewhere) has its
/// parent directory as the boundary: the maildir or file itself, and everything below it, may
/// not be a link.
public struct TreePath: Sendable, Hashable, CustomStringConvertible {
    /// Absolute and normalised; reached following links. It need not exist yet.
    public var base: String
    /// The names below ``base``, each opened without following a link; empty for the base itself.
    public var components: [String]

    /// A path from its parts; `base` is normalised as ``components(ofAbsolute:)`` does.
    public init(base: String, components: [String] = []) {
        self.base = Self.components(ofAbsolute: base).map(Self.joined) ?? base
        self.components = components
    }

    /// Splits `path` by the rule above: below `home` when it is inside it (or is it), else below
    /// its parent directory.
    /// - Throws: ``FileAccessError/invalidPath(path:reason:)`` for a path that is not absolute,
    ///   has a `..` level, or is `/` itself.
    public init(_ path: String, home: String?) throws(FileAccessError) {
        guard let parts = Self.components(ofAbsolute: path) else {
            throw .invalidPath(path: path, reason: "it must be an absolute path without . or .. levels")
        }
        if let home, let homeParts = Self.components(ofAbsolute: home), parts.starts(with: homeParts) {
            self.base = Self.joined(homeParts)
            self.components = Array(parts.dropFirst(homeParts.count))
            return
        }
        guard let last = parts.last else {
            throw .invalidPath(path: path, reason: "the root directory cannot hold a user's files")
        }
        self.base = Self.joined(parts.dropLast())
        self.components = [last]
    }

    /// The whole path.
    public var path: String {
        components.isEmpty ? base : (base == "/" ? "" : base) + "/" + components.joined(separator: "/")
    }

    public var description: String { path }

    /// This path with `names` below it.
    public func appending(_ names: String...) -> TreePath {
        TreePath(base: base, components: components + names)
    }

    /// The levels of an absolute path: empty levels and `.` dropped; nil when the path is not
    /// absolute or has a `..` level.
    public static func components(ofAbsolute path: String) -> [String]? {
        guard path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if parts.contains("..") { return nil }
        return parts
    }

    private static func joined(_ parts: some Collection<String>) -> String {
        "/" + parts.joined(separator: "/")
    }
}
