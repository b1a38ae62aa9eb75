#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File access shared by the configuration readers: reading whole files, resolving paths
/// relative to the including file and expanding `!include` globs.
enum ConfigFileAccess {
    /// Why a file could not be read.
    enum ReadFailure: Error, Sendable {
        case system(String)
    }

    /// The text of the file at `path`.
    static func readText(at path: String) throws(ReadFailure) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(lastErrorText()) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw .system("Is a directory")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(lastErrorText())
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The directory part of `path` (`.` when there is none).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `path` made relative to `directory` unless it is absolute.
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if directory == "." || directory.isEmpty { return path }
        if directory.hasSuffix("/") { return directory + path }
        return directory + "/" + path
    }

    /// The canonical path of an existing file, for include-loop detection.
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `pattern` holds glob wildcards.
    static func hasWildcards(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "{" }
    }

    /// The files matching `pattern` (sorted), or an empty array when nothing matches.
    static func glob(_ pattern: String) throws(ReadFailure) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        #if canImport(Glibc)
        let status = Glibc.glob(pattern, GLOB_BRACE, nil, &result)
        #else
        let status = Darwin.glob(pattern, GLOB_BRACE, nil, &result)
        #endif
        switch status {
        case 0:
            break
        case GLOB_NOMATCH:
            return []
        case GLOB_NOSPACE:
            throw .system("glob() failed: not enough memory")
        default:
            throw .system("glob() failed: read error")
        }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let entry = result.gl_pathv[index] { paths.append(String(cString: entry)) }
        }
        return paths.sorted()
    }

    static func lastErrorText() -> String {
        String(cString: strerror(errno))
    }
}
