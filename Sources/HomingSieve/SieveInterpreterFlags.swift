/// IMAP flag lists as imap4flags (RFC 5232) handles them: strings split on spaces, system
/// flags spelled canonically (`\seen` → `\Seen`), duplicates removed case-insensitively
/// (first spelling kept), invalid flags dropped (section 3: implementations ignore them).
enum SieveFlags {
    /// The system flags a script may set (`\Recent` is not settable).
    static let systemFlags = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]

    /// Splits and normalizes `strings` into a flag list.
    static func normalize(_ strings: [String]) -> [String] {
        var result: [String] = []
        for string in strings {
            for piece in string.split(separator: " ", omittingEmptySubsequences: true) {
                guard let flag = canonical(piece) else { continue }
                if !result.contains(where: { $0.lowercased() == flag.lowercased() }) {
                    result.append(flag)
                }
            }
        }
        return result
    }

    /// `first` followed by the flags of `second` not already in it.
    static func union(_ first: [String], _ second: [String]) -> [String] {
        normalize(first + second)
    }

    /// `first` without the flags of `second` (case-insensitive).
    static func removing(_ second: [String], from first: [String]) -> [String] {
        let removed = Set(normalize(second).map { $0.lowercased() })
        return normalize(first).filter { !removed.contains($0.lowercased()) }
    }

    /// The canonical spelling of one flag, `nil` when it is not a valid IMAP flag.
    static func canonical(_ piece: Substring) -> String? {
        if piece.hasPrefix("\\") {
            return systemFlags.first { $0.lowercased() == piece.lowercased() }
        }
        // An IMAP atom: no controls, space, ( ) { % * " \ ] and ASCII only for safety on disk.
        let forbidden: Set<Unicode.Scalar> = ["(", ")", "{", "%", "*", "\"", "\\", "]"]
        for scalar in piece.unicodeScalars {
            if scalar.value <= 0x20 || scalar.value >= 0x7F || forbidden.contains(scalar) { return nil }
        }
        return String(piece)
    }
}
