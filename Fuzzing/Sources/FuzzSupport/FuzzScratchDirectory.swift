import Glibc

/// A private directory for targets that need files (passwd-file, `!include`), created on first
/// use under `$TMPDIR` (default /tmp) and removed, with the files written to it, at exit.
public enum FuzzScratchDirectory {
    /// The directory's path (no `%`, no spaces: safe in userdb `args` and config values).
    public static let path: String = create()

    /// Writes `bytes` to the file `name` in the directory, replacing it; returns its path.
    @discardableResult
    public static func write(_ bytes: [UInt8], to name: String) -> String {
        let file = path + "/" + name
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { fatal("cannot create \(file): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                fatal("cannot write \(file): \(String(cString: strerror(errno)))")
            }
            written += count
        }
        return file
    }

    private static func create() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/homing-fuzz.XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard created != nil else { fatal("cannot create a directory in \(base): \(String(cString: strerror(errno)))") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        atexit {
            // Only the files the targets wrote: the names are fixed and few.
            let directory = FuzzScratchDirectory.path
            if let stream = opendir(directory) {
                while let entry = readdir(stream) {
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                    }
                    if name != "." && name != ".." { unlink(directory + "/" + name) }
                }
                closedir(stream)
            }
            rmdir(directory)
        }
        return path
    }

    private static func fatal(_ message: String) -> Never {
        writeStandardError("homing fuzz: \(message)\n")
        exit(2)
    }
}
