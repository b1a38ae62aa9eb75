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
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
