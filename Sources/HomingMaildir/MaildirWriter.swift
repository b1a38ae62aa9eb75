import Glibc
import HomingFileSystem

/// Stores messages into maildir folders, durably and as the user, the way Dovecot 2.3 does.
///
/// Everything is synchronous and blocking: call it from a thread pool, never from an event loop.
/// A whole ``store(_:headerPrefix:into:)`` runs on the calling thread, because the filesystem
/// identity it switches to (``FilesystemIdentity``) is per thread.
public struct MaildirWriter: Sendable {
    /// Bytes copied from the spool per `pread`.
    public var chunkSize: Int
    /// How many file names to try when one is taken.
    public var maximumNameAttempts: Int
    /// Told what each `tmp/` cleanup (``MaildirDestination/tmpCleanup``) removed; called on the
    /// storing thread, as the user.
    public var reportTmpCleanup: (@Sendable (MaildirTmpCleanupReport) -> Void)?

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
    /// `cur/` with flags) without ever replacing an existing file, and fsyncs the directory. On
    /// any failure nothing of the message remains in `tmp/`, `new/` or `cur/`.
    /// - Parameters:
    ///   - message: the spool (LF line ends); read with `pread` from offset 0, not closed.
    ///   - headerPrefix: bytes to write before the message (`Return-Path:`, `Delivered-To:`, ...), LF line ends.
    ///   - destination: the folder, its tree root, flags, fsync mode and identity.
    public func store(
        _ message: SpooledMessage, headerPrefix: [UInt8], into destination: MaildirDestination
    ) throws(MaildirError) -> StoredMail {
        guard message.size >= 0, message.lineFeeds >= 0, message.fileDescriptor >= 0 else {
            throw .invalidDestination(
                reason: "spooled message has a negative size, line feed count or file descriptor")
        }
        let info = try MaildirFileName.info(flags: destination.flags)
        let outcome: Result<StoredMail, MaildirError>
        do {
            outcome = try FilesystemIdentity.withIdentity(destination.identity) { () throws(MaildirError) -> StoredMail in
                try storeAsCurrentIdentity(message, headerPrefix: headerPrefix, info: info, destination: destination)
            }
        } catch {
            throw .identity(error)
        }
        return try outcome.get()
    }

    /// Creates the folder's directories (`cur/ new/ tmp/` and any missing parent up to the
    /// tree root) as the destination's identity, as ``store(_:headerPrefix:into:)`` would,
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
        _ message: SpooledMessage, headerPrefix: [UInt8], info: String, destination: MaildirDestination
    ) throws(MaildirError) -> StoredMail {
        let tree = MaildirTree(destination: destination)
        let directories = try tree.open(inCur: !info.isEmpty)
        if let cleanup = destination.tmpCleanup, let report = cleanup.run(in: directories.tmp) {
            reportTmpCleanup?(report)
        }
        let size = headerPrefix.count + message.size
        let virtualSize = size + headerPrefix.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } + message.lineFeeds
        let syncs = destination.fsync != .never

        let temporary = try createTemporaryFile(in: directories.tmp, path: directories.tmpPath)
        let tmpName = temporary.name
        let file = temporary.descriptor
        let tmpPath = directories.tmpPath + "/" + tmpName
        do throws(MaildirError) {
            try write(headerPrefix, message: message, to: file, path: tmpPath)
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
                try directories.destination.sync()
            } catch {
                // Not durable: take it back so a retry does not deliver twice.
                _ = unlinkat(directories.destination.descriptor.raw, fileName, 0)
                throw MaildirError(error)
            }
        }
        return StoredMail(
            path: directories.destinationPath + "/" + fileName, fileName: fileName, baseName: baseName,
            size: size, virtualSize: virtualSize, inCur: !info.isEmpty)
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

    /// Writes the prefix, then copies the spool in chunks with `pread`, checking its length.
    private func write(
        _ prefix: [UInt8], message: SpooledMessage, to file: borrowing OwnedDescriptor, path: String
    ) throws(MaildirError) {
        let prefixFailure: MaildirError? = prefix.withUnsafeBytes { bytes in
            do throws(MaildirError) {
                try writeAll(bytes, to: file.raw, path: path)
                return nil
            } catch {
                return error
            }
        }
        if let prefixFailure { throw prefixFailure }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var copied = 0
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
