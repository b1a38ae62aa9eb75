import Glibc
import HomingFileSystem

/// Counts what a Maildir++ tree holds: the messages in `cur/` and `new/` of the maildir itself
/// (`INBOX`) and of every `.folder` directory. A message's size is the `,S=<size>` in its file
/// name, else its size on disk. Files vanishing during the scan (moved or expunged) are skipped.
///
/// The scan goes through the maildir's directory descriptor and never follows a link: a
/// `.folder`, `cur/` or `new/` that is a symbolic link fails the scan
/// (``HomingFileSystem/FileAccessError/symlinkNotAllowed(path:)``). Message files are never
/// opened: a name without `S=` is measured with `fstatat` of the entry itself (a link there is
/// not counted).
public struct MaildirUsageScanner: Sendable {
    /// The maildir root (the directory holding `cur/ new/ tmp/` and `maildirsize`).
    public var location: TreePath
    /// Its path.
    public var maildir: String { location.path }

    /// The maildir at `location` (the user's home as its base, when it is inside it).
    public init(maildir location: TreePath) {
        self.location = location
    }

    /// The maildir at `maildir`, its parent directory as the trusted base.
    public init(maildir: String) {
        self.location = (try? TreePath(maildir, home: nil)) ?? TreePath(base: maildir)
    }

    /// Scans the tree. `isCounted` receives each folder's Maildir++ name (`INBOX`, or the
    /// directory name without its leading dot, e.g. `Trash`, `Lists.Work`) and returns false for
    /// folders left out of the quota (`Junk:ignore`).
    public func scan(isCounted: (String) -> Bool = { _ in true }) throws(FileAccessError) -> QuotaUsage {
        let directory = try TreeDirectory.open(location)
        return try scan(in: directory, isCounted: isCounted)
    }

    /// Scans the maildir open as `directory`.
    public func scan(
        in directory: borrowing TreeDirectory, isCounted: (String) -> Bool = { _ in true }
    ) throws(FileAccessError) -> QuotaUsage {
        var total = QuotaUsage.zero
        if isCounted("INBOX") { try add(folder: directory, to: &total) }
        for entry in try directory.entries() where entry.hasPrefix(".") {
            guard let info = try directory.status(of: entry) else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                throw .symlinkNotAllowed(path: directory.child(entry))
            case S_IFDIR:
                guard isCounted(String(entry.dropFirst())) else { continue }
                let folder: TreeDirectory
                do {
                    folder = try directory.openDirectory(entry)
                } catch {
                    if error.isNotFound { continue }  // removed meanwhile
                    throw error
                }
                try add(folder: folder, to: &total)
            default:
                continue
            }
        }
        return total
    }

    private func add(folder: borrowing TreeDirectory, to total: inout QuotaUsage) throws(FileAccessError) {
        for sub in ["cur", "new"] {
            let directory: TreeDirectory
            do {
                directory = try folder.openDirectory(sub)
            } catch {
                if error.isNotFound { continue }
                if case .notADirectory = error { continue }
                throw error
            }
            for name in try directory.entries() where !name.hasPrefix(".") {
                let size: Int64
                if let fromName = Self.sizeFromFileName(name) {
                    size = fromName
                } else {
                    guard let info = try? directory.status(of: name), (info.st_mode & S_IFMT) == S_IFREG else { continue }
                    size = Int64(info.st_size)
                }
                total.bytes += size
                total.messages += 1
            }
        }
    }

    /// The `S=<digits>` field of a maildir file name's base part (before `:2,`), if any.
    public static func sizeFromFileName(_ name: String) -> Int64? {
        let base = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        for field in base.split(separator: ",").dropFirst() where field.hasPrefix("S=") {
            return Int64(field.dropFirst(2))
        }
        return nil
    }
}
