import Glibc

/// A directory of a user's tree, open by descriptor: every file and directory below it is
/// reached through it, one level at a time, never following a symbolic link
/// (see ``LinkFreeResolution``), so nothing is ever read, written, renamed, locked or scanned
/// through a link below the trusted base (``TreePath``).
///
/// Blocking: use it on a thread pool. Operations act as the calling thread's file system
/// identity (`setfsuid`), so run them inside the identity switch of the user they are for.
public struct TreeDirectory: ~Copyable {
    /// The open directory (`O_RDONLY | O_DIRECTORY`).
    public let descriptor: OwnedDescriptor
    /// Its path, for messages.
    public let path: String
    /// How names below it are opened.
    public let resolution: LinkFreeResolution

    init(descriptor: consuming OwnedDescriptor, path: String, resolution: LinkFreeResolution) {
        self.descriptor = descriptor
        self.path = path
        self.resolution = resolution
    }

    // MARK: - Opening

    /// Opens `location`: its base following links (the administrator's part), then each of its
    /// components without following any. With `create`, missing directories on the whole way
    /// are created (as the calling thread's identity).
    public static func open(
        _ location: TreePath, create: DirectoryCreation? = nil, resolution: LinkFreeResolution = .available
    ) throws(FileAccessError) -> TreeDirectory {
        let base = try openBase(location.base, create: create, resolution: resolution)
        return try base.openDirectory(components: location.components, create: create)
    }

    /// Opens the trusted base `path` (absolute), following symbolic links on the way. With
    /// `create`, missing directories are created.
    public static func openBase(
        _ path: String, create: DirectoryCreation? = nil, resolution: LinkFreeResolution = .available
    ) throws(FileAccessError) -> TreeDirectory {
        guard let parts = TreePath.components(ofAbsolute: path) else {
            throw .invalidPath(path: path, reason: "the base must be an absolute path without . or .. levels")
        }
        let normalized = "/" + parts.joined(separator: "/")
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC
        let direct = retryingOpen { Glibc.open(normalized, flags) }
        if direct.fd >= 0 { return TreeDirectory(descriptor: OwnedDescriptor(direct.fd), path: normalized, resolution: resolution) }
        guard direct.errno == ENOENT, let create else {
            throw classifyDirectoryError(direct.errno, path: normalized, parentFD: nil, name: nil)
        }
        // Create what is missing, level by level from the root (links followed: this is the
        // administrator's part of the path).
        let root = retryingOpen { Glibc.open("/", flags) }
        guard root.fd >= 0 else { throw .failed(operation: "open", path: "/", errno: root.errno) }
        var current = TreeDirectory(descriptor: OwnedDescriptor(root.fd), path: "/", resolution: resolution)
        for part in parts {
            var created = false
            current = try current.openOrCreate(part, create: create, followLinks: true, created: &created)
        }
        return current
    }

    /// Opens the directory `name` (one level) below this one without following a link.
    public func openDirectory(_ name: String, create: DirectoryCreation? = nil) throws(FileAccessError) -> TreeDirectory {
        var created = false
        return try openOrCreate(name, create: create, followLinks: false, created: &created)
    }

    /// As ``openDirectory(_:create:)``, telling whether the directory was created.
    public func openDirectory(
        _ name: String, create: DirectoryCreation?, created: inout Bool
    ) throws(FileAccessError) -> TreeDirectory {
        try openOrCreate(name, create: create, followLinks: false, created: &created)
    }

    /// Opens the directory `components` levels below this one, never following a link (this
    /// directory itself when `components` is empty). Without `create`, `openat2` resolves the
    /// whole path in one call where the kernel has it.
    public func openDirectory(
        components: [String], create: DirectoryCreation? = nil
    ) throws(FileAccessError) -> TreeDirectory {
        for name in components { try Self.check(name, in: path) }
        if components.isEmpty {
            return try reopen()
        }
        if create == nil, resolution == .openat2, components.count > 1 {
            let joined = components.joined(separator: "/")
            let attempt = resolution.open(in: descriptor.raw, joined, flags: O_RDONLY | O_DIRECTORY, mode: 0)
            if attempt.fd >= 0 {
                return TreeDirectory(
                    descriptor: OwnedDescriptor(attempt.fd), path: child(joined), resolution: resolution)
            }
            // Walk level by level to say precisely which level is wrong.
        }
        var current = try openDirectory(components[0], create: create)
        for name in components.dropFirst() {
            current = try current.openDirectory(name, create: create)
        }
        return current
    }

    /// Opens the file `name` (one level) below this one without following a link, with
    /// `flags` (`O_RDONLY`, `O_WRONLY | O_APPEND`, `O_CREAT | O_EXCL`...) and `mode` for a new
    /// file. Only a regular file is accepted: a FIFO or device planted there is refused without
    /// blocking on it.
    /// - Throws: ``FileAccessError/symlinkNotAllowed(path:)`` for a link,
    ///   ``FileAccessError/notARegularFile(path:)``, or the failed call (`ENOENT`, `EEXIST`...).
    public func openFile(_ name: String, flags: Int32, mode: UInt32 = 0o600) throws(FileAccessError) -> OwnedDescriptor {
        try Self.check(name, in: path)
        let filePath = child(name)
        let attempt = resolution.open(in: descriptor.raw, name, flags: flags | O_NONBLOCK, mode: mode_t(mode))
        guard attempt.fd >= 0 else {
            switch attempt.errno {
            case ELOOP: throw .symlinkNotAllowed(path: filePath)
            case EISDIR, ENXIO: throw .notARegularFile(path: filePath)
            case let code:
                if code != ENOENT && code != EEXIST && isSymlink(name) { throw .symlinkNotAllowed(path: filePath) }
                throw .failed(operation: "open", path: filePath, errno: code)
            }
        }
        let file = OwnedDescriptor(attempt.fd)
        var info = stat()
        guard fstat(file.raw, &info) == 0 else { throw .failed(operation: "fstat", path: filePath, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: filePath) }
        return file
    }

    /// As ``openFile(_:flags:mode:)`` without `O_CREAT`; nil when there is no such file.
    public func openExistingFile(_ name: String, flags: Int32) throws(FileAccessError) -> OwnedDescriptor? {
        do {
            return try openFile(name, flags: flags & ~O_CREAT)
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    // MARK: - Entries

    /// The names in this directory, `.` and `..` left out, in directory order.
    public func entries() throws(FileAccessError) -> [String] {
        let copy = dup(descriptor.raw)
        guard copy >= 0 else { throw .failed(operation: "dup", path: path, errno: errno) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            _ = Glibc.close(copy)
            throw .failed(operation: "fdopendir", path: path, errno: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .failed(operation: "readdir", path: path, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `fstatat(AT_SYMLINK_NOFOLLOW)` of `name`: what is there itself, a link not followed;
    /// nil when there is nothing.
    public func status(of name: String) throws(FileAccessError) -> stat? {
        try Self.check(name, in: path)
        var info = stat()
        if fstatat(descriptor.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { return info }
        if errno == ENOENT { return nil }
        throw .failed(operation: "stat", path: child(name), errno: errno)
    }

    /// `fstat` of this directory.
    public func status() throws(FileAccessError) -> stat {
        var info = stat()
        guard fstat(descriptor.raw, &info) == 0 else { throw .failed(operation: "fstat", path: path, errno: errno) }
        return info
    }

    // MARK: - Changing entries

    /// Renames `name` here to `newName` in `directory` (replacing a file there, as `rename(2)`).
    public func rename(_ name: String, to directory: borrowing TreeDirectory, as newName: String) throws(FileAccessError) {
        try Self.check(name, in: path)
        try Self.check(newName, in: directory.path)
        while renameat(descriptor.raw, name, directory.descriptor.raw, newName) != 0 {
            if errno == EINTR { continue }
            throw .failed(operation: "rename", path: "\(child(name)) to \(directory.child(newName))", errno: errno)
        }
    }

    /// Removes the file (or link: the link itself, never its target) `name`.
    public func removeFile(_ name: String) throws(FileAccessError) {
        try Self.check(name, in: path)
        if unlinkat(descriptor.raw, name, 0) != 0 {
            throw .failed(operation: "unlink", path: child(name), errno: errno)
        }
    }

    /// fsync of the directory: its entries are durable.
    public func sync() throws(FileAccessError) {
        if Glibc.fsync(descriptor.raw) != 0 { throw .failed(operation: "fsync", path: path, errno: errno) }
    }

    /// As ``sync()``, sharing the fsync with other threads of `group` that need this directory
    /// synced at the same moment (group commit): returns once an fsync that started after the
    /// call has succeeded.
    public func sync(in group: DirectorySyncGroup) throws(FileAccessError) {
        try group.sync(descriptor, path: path)
    }

    /// `flock(2)` on the directory, shared or exclusive, waiting for it. Dropping (closing) this
    /// value releases it. Locks taken through separate opens exclude each other across
    /// processes and across threads of one process alike.
    public func lock(exclusive: Bool) throws(FileAccessError) {
        try descriptor.lock(exclusive: exclusive, timeout: nil, path: path)
    }

    /// As ``lock(exclusive:)``, waiting at most `timeout` seconds (nil: without a bound) for
    /// another holder to let go; then throws ``FileAccessError/lockTimeout(path:seconds:)``.
    /// The lock is tried without blocking, then again after pauses that grow from 1 ms to
    /// 50 ms, so a lock released is taken within about 50 ms.
    public func lock(exclusive: Bool, timeout: Double?) throws(FileAccessError) {
        try descriptor.lock(exclusive: exclusive, timeout: timeout, path: path)
    }

    /// Sets the directory's access and modification times to now.
    public func touch() throws(FileAccessError) {
        if futimens(descriptor.raw, nil) != 0 { throw .failed(operation: "utimensat", path: path, errno: errno) }
    }

    /// `path/name`, for messages.
    public func child(_ name: String) -> String {
        path == "/" ? "/" + name : path + "/" + name
    }

    // MARK: - Internals

    /// Opens `name` as a directory, creating it when missing and allowed.
    private func openOrCreate(
        _ name: String, create: DirectoryCreation?, followLinks: Bool, created: inout Bool
    ) throws(FileAccessError) -> TreeDirectory {
        try Self.check(name, in: path)
        created = false
        let directoryPath = child(name)
        let flags = O_RDONLY | O_DIRECTORY
        var attempts = 0
        while true {
            let attempt: (fd: Int32, errno: Int32)
            if followLinks {
                attempt = Self.retryingOpen { openat(descriptor.raw, name, flags | O_CLOEXEC) }
            } else {
                attempt = resolution.open(in: descriptor.raw, name, flags: flags, mode: 0)
            }
            if attempt.fd >= 0 {
                return TreeDirectory(descriptor: OwnedDescriptor(attempt.fd), path: directoryPath, resolution: resolution)
            }
            guard attempt.errno == ENOENT, let create else {
                throw Self.classifyDirectoryError(attempt.errno, path: directoryPath, parentFD: descriptor.raw, name: name)
            }
            attempts += 1
            if attempts > 5 { throw .failed(operation: "mkdir", path: directoryPath, errno: ENOENT) }
            if mkdirat(descriptor.raw, name, mode_t(create.mode)) == 0 {
                created = true
                if create.syncParent { try sync() }
            } else if errno != EEXIST {
                throw .failed(operation: "mkdir", path: directoryPath, errno: errno)
            }
        }
    }

    private func reopen() throws(FileAccessError) -> TreeDirectory {
        let attempt = resolution.open(in: descriptor.raw, ".", flags: O_RDONLY | O_DIRECTORY, mode: 0)
        guard attempt.fd >= 0 else { throw .failed(operation: "open", path: path, errno: attempt.errno) }
        return TreeDirectory(descriptor: OwnedDescriptor(attempt.fd), path: path, resolution: resolution)
    }

    private func isSymlink(_ name: String) -> Bool {
        var info = stat()
        guard fstatat(descriptor.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFLNK
    }

    private static func classifyDirectoryError(
        _ code: Int32, path: String, parentFD: Int32?, name: String?
    ) -> FileAccessError {
        switch code {
        case ELOOP:
            return .symlinkNotAllowed(path: path)
        case ENOTDIR:
            if let parentFD, let name {
                var info = stat()
                if fstatat(parentFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                    return .symlinkNotAllowed(path: path)
                }
            }
            return .notADirectory(path: path)
        case EXDEV:
            return .invalidPath(path: path, reason: "it leads out of the directory it is opened from")
        default:
            return .failed(operation: "open", path: path, errno: code)
        }
    }

    private static func retryingOpen(_ call: () -> Int32) -> (fd: Int32, errno: Int32) {
        while true {
            let fd = call()
            if fd >= 0 { return (fd, 0) }
            if errno != EINTR { return (-1, errno) }
        }
    }

    /// A name of one level: not empty, not `.` or `..`, without `/` or NUL.
    static func check(_ name: String, in directory: String) throws(FileAccessError) {
        if name.isEmpty || name == "." || name == ".." || name.utf8.contains(UInt8(ascii: "/")) || name.utf8.contains(0) {
            throw .invalidPath(path: directory + "/" + name, reason: "a name of one level is needed here")
        }
    }
}
