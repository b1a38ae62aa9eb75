import Glibc

/// The open directories of one maildir folder, reached without following symlinks below the
/// tree root.
struct OpenedMaildir: ~Copyable {
    /// `tmp/`.
    var tmp: OwnedDescriptor
    /// `new/` or `cur/`, wherever the message goes.
    var destination: OwnedDescriptor
    /// Path of `tmp/`, for messages.
    var tmpPath: String
    /// Path of `new/` or `cur/`.
    var destinationPath: String
    /// The folder itself (where `dovecot-keywords` lives).
    var folder: OwnedDescriptor
    /// The tree root (where the `subscriptions` file lives).
    var root: OwnedDescriptor
    /// Whether this open created the folder.
    var createdFolder: Bool
}

/// Opens (and creates, as allowed) the directories of a maildir folder with fd-relative calls.
///
/// Above the tree root symlinks are followed (the administrator's part of the path); from the
/// tree root downward every directory is opened with `O_NOFOLLOW | O_DIRECTORY`, and a symlink
/// is an error. Created directories get mode 0700; with fsync enabled the parent directory is
/// synced after each creation.
struct MaildirTree {
    var destination: MaildirDestination

    private var syncs: Bool { destination.fsync != .never }

    /// Path components of an absolute path; nil when it is not absolute or has `.`/`..` levels.
    static func components(of path: String) -> [String]? {
        guard path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/").map(String.init)
        if parts.contains(where: { $0 == "." || $0 == ".." }) { return nil }
        return parts
    }

    /// Opens the folder's `tmp/` and `new/` (or `cur/` when `inCur`).
    func open(inCur: Bool) throws(MaildirError) -> OpenedMaildir {
        guard let rootParts = Self.components(of: destination.treeRoot), !rootParts.isEmpty else {
            throw .invalidDestination(reason: "tree root \"\(destination.treeRoot)\" must be an absolute path below /")
        }
        guard let folderParts = Self.components(of: destination.directory) else {
            throw .invalidDestination(reason: "folder \"\(destination.directory)\" must be an absolute path")
        }
        guard folderParts.starts(with: rootParts) else {
            throw .invalidDestination(
                reason: "folder \"\(destination.directory)\" is not inside the tree root \"\(destination.treeRoot)\"")
        }
        let mayCreate = destination.createIfMissing || destination.isInbox
        let folderPath = "/" + folderParts.joined(separator: "/")

        let rootFD = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .system(operation: "open", path: "/", errno: errno) }
        var current = OwnedDescriptor(rootFD)
        var path = ""
        var createdInFolder = false
        var treeRoot: OwnedDescriptor? = nil
        for (index, part) in folderParts.enumerated() {
            path += "/" + part
            // Components above the tree root may be symlinks; the root and everything below may not.
            let isRootOrBelow = index >= rootParts.count - 1
            var created = false
            let next = try openDirectory(
                in: current, name: part, path: path, followSymlinks: !isRootOrBelow,
                create: mayCreate ? .create : .mustExist(reportAs: folderPath), created: &created)
            current = next
            if created && index == folderParts.count - 1 { createdInFolder = true }
            if index == rootParts.count - 1 {
                let copy = dup(current.raw)
                guard copy >= 0 else { throw .system(operation: "dup", path: path, errno: errno) }
                treeRoot = OwnedDescriptor(copy)
            }
        }
        guard let root = treeRoot.take() else {
            throw .invalidDestination(reason: "tree root \"\(destination.treeRoot)\" was not reached")
        }

        var created = false
        let cur = try openDirectory(
            in: current, name: "cur", path: folderPath + "/cur", followSymlinks: false,
            create: mayCreate ? .create : .mustExist(reportAs: folderPath), created: &created)
        createdInFolder = createdInFolder || created
        let new = try openDirectory(
            in: current, name: "new", path: folderPath + "/new", followSymlinks: false, create: .create,
            created: &created)
        createdInFolder = createdInFolder || created
        let tmp = try openDirectory(
            in: current, name: "tmp", path: folderPath + "/tmp", followSymlinks: false, create: .create,
            created: &created)
        createdInFolder = createdInFolder || created

        if createdInFolder && !destination.isInbox {
            try createMaildirfolderFile(in: current, path: folderPath + "/maildirfolder")
        }
        if inCur {
            return OpenedMaildir(
                tmp: tmp, destination: cur, tmpPath: folderPath + "/tmp", destinationPath: folderPath + "/cur",
                folder: current, root: root, createdFolder: createdInFolder)
        }
        return OpenedMaildir(
            tmp: tmp, destination: new, tmpPath: folderPath + "/tmp", destinationPath: folderPath + "/new",
            folder: current, root: root, createdFolder: createdInFolder)
    }

    /// What to do when a directory is missing.
    enum MissingDirectory {
        case create
        /// Throw ``MaildirError/mailboxDoesNotExist(path:)`` naming this path.
        case mustExist(reportAs: String)
    }

    /// Opens directory `name` in `parent`, creating it (0700) if allowed.
    func openDirectory(
        in parent: borrowing OwnedDescriptor, name: String, path: String, followSymlinks: Bool,
        create: MissingDirectory, created: inout Bool
    ) throws(MaildirError) -> OwnedDescriptor {
        created = false
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW)
        var attempts = 0
        while true {
            let fd = openat(parent.raw, name, flags)
            if fd >= 0 { return OwnedDescriptor(fd) }
            let code = errno
            switch code {
            case EINTR:
                continue
            case ENOENT:
                guard case .create = create else {
                    if case .mustExist(let reported) = create { throw .mailboxDoesNotExist(path: reported) }
                    throw .mailboxDoesNotExist(path: path)
                }
                attempts += 1
                if attempts > 5 { throw .system(operation: "mkdir", path: path, errno: ENOENT) }
                if mkdirat(parent.raw, name, 0o700) == 0 {
                    created = true
                    if syncs { try syncDirectory(parent, path: parentPath(of: path)) }
                } else if errno != EEXIST {
                    throw .system(operation: "mkdir", path: path, errno: errno)
                }
            case ELOOP:
                throw .symlinkNotAllowed(path: path)
            case ENOTDIR:
                if isSymlink(in: parent, name: name) { throw .symlinkNotAllowed(path: path) }
                throw .notADirectory(path: path)
            default:
                throw .system(operation: "open", path: path, errno: code)
            }
        }
    }

    /// Creates the empty `maildirfolder` marker (0600) unless it exists.
    private func createMaildirfolderFile(in folder: borrowing OwnedDescriptor, path: String) throws(MaildirError) {
        while true {
            let fd = openat(folder.raw, "maildirfolder", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 {
                if let code = OwnedDescriptor(fd).close() { throw .system(operation: "close", path: path, errno: code) }
                return
            }
            switch errno {
            case EINTR: continue
            case EEXIST:
                if isSymlink(in: folder, name: "maildirfolder") { throw .symlinkNotAllowed(path: path) }
                return
            case let code: throw .system(operation: "open", path: path, errno: code)
            }
        }
    }

    /// fsync on a directory descriptor.
    func syncDirectory(_ directory: borrowing OwnedDescriptor, path: String) throws(MaildirError) {
        if Glibc.fsync(directory.raw) != 0 {
            throw .system(operation: "fsync", path: path, errno: errno)
        }
    }

    private func isSymlink(in parent: borrowing OwnedDescriptor, name: String) -> Bool {
        var info = stat()
        guard fstatat(parent.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFLNK
    }

    private func parentPath(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
