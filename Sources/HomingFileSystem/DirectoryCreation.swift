/// How ``TreeDirectory`` creates a directory that is missing.
public struct DirectoryCreation: Sendable, Hashable {
    /// The mode of a created directory (before the umask).
    public var mode: UInt32
    /// fsync the parent directory after each creation, so that the new entry is durable.
    public var syncParent: Bool

    public init(mode: UInt32 = 0o700, syncParent: Bool = true) {
        self.mode = mode
        self.syncParent = syncParent
    }
}
