/// Turns the argument of `!include` / `!include_try` into the files to read.
enum IncludeExpansion {
    /// The files named by `pattern`, relative to `directory`, sorted.
    /// `!include` of a missing file or of a glob matching nothing is an error; `!include_try`
    /// skips files that are missing or unreadable (Dovecot's way to keep secrets in files only
    /// some processes may read).
    static func paths(for pattern: String, directory: String, optional: Bool,
                      directive: String, at location: ConfigLocation) throws(ConfigError) -> [String] {
        let full = ConfigFileAccess.resolve(pattern, relativeTo: directory)
        if !ConfigFileAccess.hasWildcards(pattern) {
            if optional, access(full, R_OK) != 0 { return [] }
            return [full]
        }
        let matches: [String]
        do {
            matches = try ConfigFileAccess.glob(full)
        } catch {
            guard case .system(let reason) = error else { return [] }
            throw ConfigError("\(directive): \(reason)", at: location)
        }
        if optional { return matches.filter { access($0, R_OK) == 0 } }
        if matches.isEmpty {
            throw ConfigError("\(directive): no files match", at: location)
        }
        return matches
    }

    /// The files `!include`/`!include_try PATTERN` reads, with their text, in order. A file
    /// already being read (`reading` holds canonical paths) is an include loop; a file that
    /// cannot be read is an error naming it.
    static func files(
        for pattern: String, optional: Bool, directory: String, reading: some Collection<String>,
        at location: ConfigLocation
    ) throws(ConfigError) -> [(path: String, text: String)] {
        let directive = (optional ? "!include_try " : "!include ") + pattern
        var files: [(path: String, text: String)] = []
        for path in try paths(for: pattern, directory: directory, optional: optional, directive: directive, at: location) {
            if reading.contains(ConfigFileAccess.canonicalPath(path)) {
                throw ConfigError("\(directive): include loop (\(path) is already being read)", at: location)
            }
            do {
                files.append((path, try ConfigFileAccess.readText(at: path)))
            } catch {
                guard case .system(let reason) = error else { continue }
                let shown = ConfigFileAccess.hasWildcards(pattern) ? "\(path): " : ""
                throw ConfigError("\(directive): \(shown)\(reason)", at: location)
            }
        }
        return files
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
