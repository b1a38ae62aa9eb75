import Glibc
import HomingFileSystem

/// The open directories of one maildir folder, reached without following symlinks below the
/// trusted base.
struct OpenedMaildir: ~Copyable {
    /// `tmp/`.
    var tmp: TreeDirectory
    /// `new/` or `cur/`, wherever the message goes.
    var destination: TreeDirectory
    /// Path of `tmp/`, for messages.
    var tmpPath: String { tmp.path }
    /// Path of `new/` or `cur/`.
    var destinationPath: String { destination.path }
    /// The folder itself (where `dovecot-keywords` lives).
    var folder: TreeDirectory
    /// Whether this open created the folder.
    var createdFolder: Bool
}

/// Opens (and creates, as allowed) the directories of a maildir folder through
/// ``HomingFileSystem/TreeDirectory``: the trusted base (``MaildirDestination/trustedBase``)
/// and the way to it may be links (the administrator's part of the path); from there
/// downward every level is opened without following a link, and a link is an error. Created
/// directories get mode 0700; with fsync enabled the parent directory is synced after each
/// creation.
struct MaildirTree {
    var destination: MaildirDestination

    private var syncs: Bool { destination.fsync != .never }

    /// Opens the folder's `tmp/` and `new/` (or `cur/` when `inCur`).
    func open(inCur: Bool) throws(MaildirError) -> OpenedMaildir {
        guard let folderParts = TreePath.components(ofAbsolute: destination.directory), !folderParts.isEmpty else {
            throw .invalidDestination(
                reason: "folder \"\(destination.directory)\" must be an absolute path below / without . or .. levels")
        }
        guard let baseParts = TreePath.components(ofAbsolute: destination.trustedBase) else {
            throw .invalidDestination(reason: "trusted base \"\(destination.trustedBase)\" must be an absolute path")
        }
        guard folderParts.starts(with: baseParts) else {
            throw .invalidDestination(
                reason: "folder \"\(destination.directory)\" is not inside \"\(destination.trustedBase)\"")
        }
        let mayCreate = destination.createIfMissing || destination.isInbox
        let folderPath = "/" + folderParts.joined(separator: "/")
        let creation = mayCreate ? DirectoryCreation(mode: 0o700, syncParent: syncs) : nil
        let always = DirectoryCreation(mode: 0o700, syncParent: syncs)

        var current = try opening(folderPath) { () throws(FileAccessError) in
            try TreeDirectory.openBase(destination.trustedBase, create: creation)
        }
        var createdInFolder = false
        let below = Array(folderParts.dropFirst(baseParts.count))
        for (index, name) in below.enumerated() {
            var created = false
            let next = try opening(folderPath) { () throws(FileAccessError) in
                try current.openDirectory(name, create: creation, created: &created)
            }
            current = next
            if created && index == below.count - 1 { createdInFolder = true }
        }

        var created = false
        let cur = try opening(folderPath) { () throws(FileAccessError) in
            try current.openDirectory("cur", create: creation, created: &created)
        }
        createdInFolder = createdInFolder || created
        let new = try opening(folderPath) { () throws(FileAccessError) in
            try current.openDirectory("new", create: always, created: &created)
        }
        createdInFolder = createdInFolder || created
        let tmp = try opening(folderPath) { () throws(FileAccessError) in
            try current.openDirectory("tmp", create: always, created: &created)
        }
        createdInFolder = createdInFolder || created

        if createdInFolder && !destination.isInbox {
            try createMaildirfolderFile(in: current)
        }
        if inCur {
            return OpenedMaildir(tmp: tmp, destination: cur, folder: current, createdFolder: createdInFolder)
        }
        return OpenedMaildir(tmp: tmp, destination: new, folder: current, createdFolder: createdInFolder)
    }

    /// Runs one step of the walk, turning a missing directory that may not be created into
    /// ``MaildirError/mailboxDoesNotExist(path:)`` for the folder.
    private func opening(
        _ folderPath: String, _ step: () throws(FileAccessError) -> TreeDirectory
    ) throws(MaildirError) -> TreeDirectory {
        do {
            return try step()
        } catch {
            if error.isNotFound { throw .mailboxDoesNotExist(path: folderPath) }
            throw MaildirError(error)
        }
    }

    /// Creates the empty `maildirfolder` marker (0600) unless it exists.
    private func createMaildirfolderFile(in folder: borrowing TreeDirectory) throws(MaildirError) {
        let path = folder.child("maildirfolder")
        let file: OwnedDescriptor
        do {
            file = try folder.openFile("maildirfolder", flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        } catch {
            guard error.errno == EEXIST else { throw MaildirError(error) }
            if let info = try? folder.status(of: "maildirfolder"), (info.st_mode & S_IFMT) == S_IFLNK {
                throw .symlinkNotAllowed(path: path)
            }
            return
        }
        if let code = file.close() { throw .system(operation: "close", path: path, errno: code) }
    }
}

extension MaildirError {
    /// The maildir error for a failed step of the walk.
    init(_ error: FileAccessError) {
        switch error {
        case .symlinkNotAllowed(let path): self = .symlinkNotAllowed(path: path)
        case .notADirectory(let path): self = .notADirectory(path: path)
        case .notARegularFile(let path): self = .notARegularFile(path: path)
        case .invalidPath(let path, let reason): self = .invalidDestination(reason: "\(path): \(reason)")
        case .system(let operation, let path, let code): self = .system(operation: operation, path: path, errno: code)
        case .permissionDenied(let operation, let path, let explanation):
            self = .permissionDenied(operation: operation, path: path, explanation: explanation)
        case .lockTimeout(let path, _): self = .lockTimeout(path: path)
        }
    }
}
