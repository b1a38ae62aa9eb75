#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `read(2)`, named apart from ``PasswdFileReader/read(_:)``.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// Blocking file access for passwd-files. Call on a thread pool.
enum PasswdFileReader {
    enum StatResult: Sendable, Hashable {
        case identity(FileIdentity)
        case missing
        case failed(String)
    }

    enum ReadResult: Sendable, Hashable {
        case loaded(FileIdentity, PasswdFileContents)
        case missing
        case failed(String)
    }

    /// Files larger than this are refused rather than read into memory.
    static let maximumSize = 256 << 20

    static func identity(of path: String) -> StatResult {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            return .failed("stat(\(path)) failed: \(SystemAccounts.describe(code))")
        }
        return .identity(FileIdentity(status))
    }

    /// Opens, reads and parses a file. The identity is taken from the open descriptor, so it
    /// matches the bytes read.
    static func read(_ path: String) -> ReadResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            return .failed("open(\(path)) failed: \(SystemAccounts.describe(code))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            return .failed("fstat(\(path)) failed: \(SystemAccounts.describe(errno))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            return .failed("\(path) is not a regular file")
        }
        guard status.st_size <= maximumSize else {
            return .failed("\(path) is larger than \(maximumSize >> 20) MiB")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { readBytes(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failed("read(\(path)) failed: \(SystemAccounts.describe(code))")
            }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize {
                return .failed("\(path) is larger than \(maximumSize >> 20) MiB")
            }
        }
        return .loaded(FileIdentity(status), PasswdFileParser.parse(bytes, path: path))
    }
}
