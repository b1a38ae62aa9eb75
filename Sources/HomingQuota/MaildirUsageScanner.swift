import Glibc
import HomingConfig

/// Counts what a Maildir++ tree holds: the messages in `cur/` and `new/` of the maildir itself
/// (`INBOX`) and of every `.folder` directory. A message's size is the `,S=<size>` in its file
/// name, else its size on disk. Files vanishing during the scan (moved or expunged) are skipped.
public struct MaildirUsageScanner: Sendable {
    /// The maildir root (the directory holding `cur/ new/ tmp/` and `maildirsize`).
    public var maildir: String

    public init(maildir: String) {
        self.maildir = maildir
    }

    /// Scans the tree. `isCounted` receives each folder's Maildir++ name (`INBOX`, or the
    /// directory name without its leading dot, e.g. `Trash`, `Lists.Work`) and returns false for
    /// folders left out of the quota (`Junk:ignore`).
    public func scan(isCounted: (String) -> Bool = { _ in true }) throws(SystemCallError) -> QuotaUsage {
        var total = QuotaUsage.zero
        if isCounted("INBOX") { try add(folder: maildir, to: &total) }
        for entry in try listDirectory(maildir, ignoreMissing: false) where entry.hasPrefix(".") {
            guard entry != ".", entry != ".." else { continue }
            let path = maildir + "/" + entry
            guard isDirectory(path) else { continue }
            if isCounted(String(entry.dropFirst())) { try add(folder: path, to: &total) }
        }
        return total
    }

    private func add(folder: String, to total: inout QuotaUsage) throws(SystemCallError) {
        for sub in ["cur", "new"] {
            let directory = folder + "/" + sub
            for name in try listDirectory(directory, ignoreMissing: true) where !name.hasPrefix(".") {
                let size: Int64
                if let fromName = Self.sizeFromFileName(name) {
                    size = fromName
                } else {
                    var info = stat()
                    guard lstat(directory + "/" + name, &info) == 0 else { continue }
                    guard (info.st_mode & S_IFMT) == S_IFREG else { continue }
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

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private func listDirectory(_ path: String, ignoreMissing: Bool) throws(SystemCallError) -> [String] {
        guard let handle = opendir(path) else {
            let code = errno
            if ignoreMissing && (code == ENOENT || code == ENOTDIR) { return [] }
            throw SystemCallError("opendir", path: path, errno: code)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            names.append(name)
        }
        return names
    }
}
