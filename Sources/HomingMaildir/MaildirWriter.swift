import Glibc
import HomingFileSystem

/// Stores messages into maildir folders, durably and as the user, the way Dovecot 2.3 does.
///
/// Everything is synchronous and blocking: call it from a thread pool, never from an event loop.
/// A whole ``store(_:headerPrefix:replacingHeader:into:)`` runs on the calling thread, because the filesystem
/// identity it switches to (``FilesystemIdentity``) is per thread.
public struct MaildirWriter: Sendable {
    /// Bytes copied from the spool per `pread`.
    public var chunkSize: Int
    /// How many file names to try when one is taken.
    public var maximumNameAttempts: Int
    /// Told what each `tmp/` cleanup (``MaildirDestination/tmpCleanup``) removed; called on the
    /// storing thread, as the user.
    public var reportTmpCleanup: (@Sendable (MaildirTmpCleanupReport) -> Void)?
    /// How long to wait for `dovecot-uidlist.lock` (keywords) and `subscriptions.lock`.
    var keywordLockTiming = MaildirDotLock.Timing.uidlist
    var subscriptionLockTiming = MaildirDotLock.Timing.subscriptions

    public init(
        chunkSize: Int = 64 * 1024, maximumNameAttempts: Int = 100,
        reportTmpCleanup: (@Sendable (MaildirTmpCleanupReport) -> Void)? = nil
    ) {
        self.chunkSize = max(1, chunkSize)
        self.maximumNameAttempts = max(1, maximumNameAttempts)
        self.reportTmpCleanup = reportTmpCleanup
    }

    /// Stores `headerPrefix` followed by the spooled message as one new file in the folder.
    ///
    /// Creates missing directories (0700) as the destination allows, writes
    /// `tmp/<unique name>` (0600, `O_EXCL | O_NOFOLLOW`), fsyncs it, moves it into `new/` (or
    /// `cur/` with flags or keywords) without ever replacing an existing file, and fsyncs the
    /// directory. On any failure nothing of the message remains in `tmp/`, `new/` or `cur/`.
    ///
    /// Keywords get their letters from the folder's `dovecot-keywords` file, and a folder this
    /// store creates is added to the `subscriptions` file when the destination asks; when either
    /// cannot be written the message is still stored (without those letters, unsubscribed) and
    /// ``StoredMail/problems`` says what is missing.
    /// - Parameters:
    ///   - message: the spool (LF line ends); read with `pread`, not closed.
    ///   - headerPrefix: bytes to write before the message (`Return-Path:`, `Delivered-To:`, ...), LF line ends.
    ///   - replacement: a header to write instead of the spool's own (Sieve's `editheader`):
    ///     the copy is then the prefix, the replacement's header and the spool from its body
    ///     offset. `S=` and `W=` count what is written.
    ///   - destination: the folder, its tree root, flags, keywords, fsync mode and identity.
    public func store(
        _ message: SpooledMessage, headerPrefix: [UInt8], replacingHeader replacement: HeaderReplacement? = nil,
        into destination: MaildirDestination
    ) throws(MaildirError) -> StoredMail {
        guard message.size >= 0, message.lineFeeds >= 0, message.fileDescriptor >= 0 else {
            throw .invalidDestination(
                reason: "spooled message has a negative size, line feed count or file descriptor")
        }
        if let replacement {
            guard (0...message.size).contains(replacement.bodyOffset),
                (0...min(replacement.bodyOffset, message.lineFeeds)).contains(replacement.replacedLineFeeds)
            else {
                throw .invalidDestination(
                    reason: "the replacement header's body offset \(replacement.bodyOffset) is outside the spooled message")
            }
        }
        let info = try MaildirFileName.info(flags: destination.flags)
        let outcome: Result<StoredMail, MaildirError>
        do {
            outcome = try FilesystemIdentity.withIdentity(destination.identity) { () throws(MaildirError) -> StoredMail in
                try storeAsCurrentIdentity(
                    message, headerPrefix: headerPrefix, replacement: replacement, info: info, destination: destination)
            }
        } catch {
            throw .identity(error)
        }
        return try outcome.get()
    }

    /// Creates the folder's directories (`cur/ new/ tmp/` and any missing parent up to the
    /// tree root) as the destination's identity, as ``store(_:headerPrefix:replacingHeader:into:)`` would,
    /// without storing anything. The quota plugin uses it to lock the maildir of a user who
    /// has never received mail.
    public func prepare(_ destination: MaildirDestination) throws(MaildirError) {
        let outcome: Result<Void, MaildirError>
        do {
            outcome = try FilesystemIdentity.withIdentity(destination.identity) { () throws(MaildirError) -> Void in
                _ = try MaildirTree(destination: destination).open(inCur: false)
            }
        } catch {
            throw .identity(error)
        }
        try outcome.get()
    }

    // MARK: - Steps

    private func storeAsCurrentIdentity(
        _ message: SpooledMessage, headerPrefix: [UInt8], replacement: HeaderReplacement?, info systemInfo: String,
        destination: MaildirDestination
    ) throws(MaildirError) -> StoredMail {
        let tree = MaildirTree(destination: destination)
        let keywords = destination.keywords
        let directories = try tree.open(inCur: !systemInfo.isEmpty || !keywords.isEmpty)
        if let cleanup = destination.tmpCleanup, let report = cleanup.run(in: directories.tmp) {
            reportTmpCleanup?(report)
        }
        let (size, virtualSize) = Self.sizes(of: message, headerPrefix: headerPrefix, replacing: replacement)
        let syncs = destination.fsync != .never
        var problems: [String] = []
        if directories.createdFolder, let subscription = destination.subscribeIfCreated {
            do throws(MaildirError) {
                let root = try Self.openMailRoot(subscription.root, trustedBase: destination.trustedBase)
                try MaildirSubscriptionsFile.subscribe(subscription, inRoot: root, fsync: syncs, timing: subscriptionLockTiming)
            } catch {
                problems.append("not subscribed to the new folder: \(error)")
            }
        }
        var info = systemInfo
        if !keywords.isEmpty {
            var letters = ""
            do throws(MaildirError) {
                let assigned = try MaildirKeywordsFile.letters(
                    for: keywords, inFolder: directories.folder, fsync: syncs, timing: keywordLockTiming)
                letters = assigned.letters
                if !assigned.unassigned.isEmpty {
                    problems.append(
                        "keywords without a maildir letter (not IMAP atoms, or the folder names 26 already): "
                            + assigned.unassigned.joined(separator: " "))
                }
            } catch {
                problems.append("keywords not stored (\(keywords.joined(separator: " "))): \(error)")
            }
            // System flags (upper case) sort before keyword letters (lower case), as Dovecot writes them.
            info = ":2," + String(systemInfo.dropFirst(3)) + letters
        }

        let temporary = try createTemporaryFile(in: directories.tmp, path: directories.tmpPath)
        let tmpName = temporary.name
        let file = temporary.descriptor
        let tmpPath = directories.tmpPath + "/" + tmpName
        do throws(MaildirError) {
            try write(headerPrefix, replacement: replacement, message: message, to: file, path: tmpPath)
            if syncs, Glibc.fsync(file.raw) != 0 {
                throw .system(operation: "fsync", path: tmpPath, errno: errno)
            }
            if let code = file.close() { throw .system(operation: "close", path: tmpPath, errno: code) }
        } catch {
            _ = unlinkat(directories.tmp.descriptor.raw, tmpName, 0)
            throw error
        }

        let baseName: String
        let fileName: String
        do throws(MaildirError) {
            (baseName, fileName) = try moveIntoPlace(
                tmpName: tmpName, directories: directories, size: size, virtualSize: virtualSize, info: info)
        } catch {
            _ = unlinkat(directories.tmp.descriptor.raw, tmpName, 0)
            throw error
        }
        if syncs {
            do throws(FileAccessError) {
                try directories.destination.sync(in: .shared)
            } catch {
                // Not durable: take it back so a retry does not deliver twice.
                _ = unlinkat(directories.destination.descriptor.raw, fileName, 0)
                throw MaildirError(error)
            }
        }
        return StoredMail(
            path: directories.destinationPath + "/" + fileName, fileName: fileName, baseName: baseName,
            size: size, virtualSize: virtualSize, inCur: !info.isEmpty, problems: problems)
    }

    /// The mail root (where `subscriptions` lives): below the trusted base without following a
    /// link, or (a root above the base, the administrator's part) as the base itself.
    static func openMailRoot(_ root: String, trustedBase: String) throws(MaildirError) -> TreeDirectory {
        let rootParts = TreePath.components(ofAbsolute: root) ?? []
        let baseParts = TreePath.components(ofAbsolute: trustedBase) ?? []
        let location =
            rootParts.starts(with: baseParts)
            ? TreePath(base: trustedBase, components: Array(rootParts.dropFirst(baseParts.count)))
            : TreePath(base: root)
        do {
            return try TreeDirectory.open(location)
        } catch {
            throw MaildirError(error)
        }
    }

    /// Creates `tmp/<unique base name>` exclusively, trying fresh names while one is taken.
    private func createTemporaryFile(
        in tmp: borrowing TreeDirectory, path: String
    ) throws(MaildirError) -> TemporaryFile {
        var attempts = 0
        while attempts < maximumNameAttempts {
            let name = MaildirFileName.nextUniqueBase()
            do {
                let file = try tmp.openFile(name, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
                return TemporaryFile(name: name, descriptor: file)
            } catch {
                guard error.errno == EEXIST else { throw MaildirError(error) }
                attempts += 1
            }
        }
        throw .uniqueNameExhausted(directory: path)
    }

    /// Writes the prefix (and the replacement header), then copies the spool (from the
    /// replacement's body offset) in chunks with `pread`, checking its length.
    private func write(
        _ prefix: [UInt8], replacement: HeaderReplacement?, message: SpooledMessage, to file: borrowing OwnedDescriptor,
        path: String
    ) throws(MaildirError) {
        for bytes in [prefix, replacement?.header ?? []] where !bytes.isEmpty {
            let failure: MaildirError? = bytes.withUnsafeBytes { buffer in
                do throws(MaildirError) {
                    try writeAll(buffer, to: file.raw, path: path)
                    return nil
                } catch {
                    return error
                }
            }
            if let failure { throw failure }
        }
        let start = replacement?.bodyOffset ?? 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var copied = start
        while true {
            let wanted = min(chunkSize, message.size - copied)
            // Past the expected size, read one byte to prove the spool ends there.
            let request = wanted > 0 ? wanted : 1
            let count = pread(message.fileDescriptor, buffer.baseAddress, request, off_t(copied))
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "pread", path: "spool file descriptor \(message.fileDescriptor)", errno: errno)
            }
            if count == 0 { break }
            if wanted == 0 { throw .spoolSizeMismatch(expected: message.size, actual: copied + count) }
            try writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: file.raw, path: path)
            copied += count
        }
        if copied != message.size {
            throw .spoolSizeMismatch(expected: message.size, actual: copied)
        }
    }

    private func writeAll(
        _ bytes: UnsafeRawBufferPointer, to file: Int32, path: String
    ) throws(MaildirError) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(file, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", path: path, errno: errno)
            }
            if written == 0 { throw .system(operation: "write", path: path, errno: EIO) }
            offset += written
        }
    }

    /// Moves `tmp/<tmpName>` to `new/` or `cur/` under its final name, never replacing a file:
    /// a taken name gets a fresh base name. Returns the base name and the file name.
    private func moveIntoPlace(
        tmpName: String, directories: borrowing OpenedMaildir, size: Int, virtualSize: Int, info: String
    ) throws(MaildirError) -> (String, String) {
        var base = tmpName
        for _ in 0..<maximumNameAttempts {
            let baseName = MaildirFileName.withSizes(base, size: size, virtualSize: virtualSize)
            let fileName = baseName + info
            let code = Self.renameWithoutReplacing(
                from: directories.tmp.descriptor.raw, tmpName, to: directories.destination.descriptor.raw, fileName)
            switch code {
            case 0:
                return (baseName, fileName)
            case EEXIST:
                base = MaildirFileName.nextUniqueBase()
            default:
                throw .system(
                    operation: "rename", path: "\(directories.tmpPath)/\(tmpName) to \(directories.destinationPath)/\(fileName)",
                    errno: code)
            }
        }
        throw .uniqueNameExhausted(directory: directories.destinationPath)
    }

    /// `renameat2(RENAME_NOREPLACE)`, or `linkat` + `unlinkat` where the file system does not
    /// support it. Returns 0 or errno (`EEXIST` when the target exists).
    static func renameWithoutReplacing(from oldDirectory: Int32, _ oldName: String, to newDirectory: Int32, _ newName: String) -> Int32 {
        if let renameat2 = LinuxFilesystemCalls.renameat2 {
            while true {
                if renameat2(oldDirectory, oldName, newDirectory, newName, LinuxFilesystemCalls.renameNoReplace) == 0 { return 0 }
                let code = errno
                if code == EINTR { continue }
                if code != EINVAL && code != ENOSYS && code != EOPNOTSUPP { return code }
                break
            }
        }
        while linkat(oldDirectory, oldName, newDirectory, newName, 0) != 0 {
            if errno != EINTR { return errno }
        }
        _ = unlinkat(oldDirectory, oldName, 0)
        return 0
    }
}

/// A file just created in `tmp/`.
private struct TemporaryFile: ~Copyable {
    var name: String
    var descriptor: OwnedDescriptor
}
