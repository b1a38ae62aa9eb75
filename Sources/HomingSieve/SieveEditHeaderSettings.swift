/// The `editheader` settings (RFC 5293, Pigeonhole's `sieve_editheader_*`): which header fields
/// a script may add or delete, and how large an added value may be.
///
/// Whatever the settings say, as RFC 5293 section 6 and Pigeonhole require: `Received` and
/// `Auto-Submitted` can never be deleted, `Subject` can always be added and deleted, and
/// `X-Sieve-Redirected-From` (Homing's redirect loop marker) can be neither.
public struct SieveEditHeaderSettings: Sendable, Hashable {
    /// Pigeonhole's default `sieve_editheader_max_header_size`: 2048 octets.
    public static let defaultMaxHeaderSize = 2048
    /// The smallest `sieve_editheader_max_header_size` accepted (1024; RFC 5293 section 4 asks
    /// for at least 998).
    public static let minimumMaxHeaderSize = 1024

    /// The largest value `addheader` may add, in octets.
    public var maxHeaderSize: Int
    /// Lowercase names that cannot be added (`sieve_editheader_forbid_add`, `_protected`).
    public var forbiddenToAdd: Set<String>
    /// Lowercase names that cannot be deleted (`sieve_editheader_forbid_delete`, `_protected`).
    public var forbiddenToDelete: Set<String>

    /// Creates settings; the defaults are Pigeonhole's.
    public init(
        maxHeaderSize: Int = SieveEditHeaderSettings.defaultMaxHeaderSize, forbiddenToAdd: Set<String> = [],
        forbiddenToDelete: Set<String> = []
    ) {
        self.maxHeaderSize = maxHeaderSize
        self.forbiddenToAdd = Set(forbiddenToAdd.map { $0.lowercased() })
        self.forbiddenToDelete = Set(forbiddenToDelete.map { $0.lowercased() })
    }

    /// Reads Pigeonhole's settings: `maxHeaderSize` is `sieve_editheader_max_header_size` in
    /// octets (already parsed from `2k` notation by the caller), and the lists are
    /// space-separated header names (`sieve_editheader_protected`, `_forbid_add`,
    /// `_forbid_delete`). As in Pigeonhole, an invalid header name and a size below the minimum
    /// are ignored with a warning.
    public static func make(
        maxHeaderSize: Int? = nil, protected: String? = nil, forbidAdd: String? = nil, forbidDelete: String? = nil
    ) -> (settings: SieveEditHeaderSettings, warnings: [String]) {
        var warnings: [String] = []
        var settings = SieveEditHeaderSettings()
        func names(_ value: String?, setting: String) -> Set<String> {
            var result: Set<String> = []
            for name in (value ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if SieveValidator.isHeaderName(String(name)) {
                    result.insert(name.lowercased())
                } else {
                    warnings.append(
                        "editheader: setting \(setting) contains invalid header field name `\(name)' (ignored)")
                }
            }
            return result
        }
        let protectedNames = names(protected, setting: "sieve_editheader_protected")
        settings.forbiddenToAdd = protectedNames.union(names(forbidAdd, setting: "sieve_editheader_forbid_add"))
        settings.forbiddenToDelete = protectedNames.union(
            names(forbidDelete, setting: "sieve_editheader_forbid_delete"))
        if let maxHeaderSize {
            if maxHeaderSize < minimumMaxHeaderSize {
                warnings.append(
                    "editheader: value of sieve_editheader_max_header_size setting (=\(maxHeaderSize)) is less than the minimum (=\(minimumMaxHeaderSize)) (ignored)"
                )
            } else {
                settings.maxHeaderSize = maxHeaderSize
            }
        }
        return (settings, warnings)
    }

    /// Whether `addheader` may add a field named `name`.
    public func mayAdd(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if lowered == "subject" { return true }
        if lowered == "x-sieve-redirected-from" { return false }
        return !forbiddenToAdd.contains(lowered)
    }

    /// Whether `deleteheader` may delete fields named `name`.
    public func mayDelete(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if lowered == "received" || lowered == "auto-submitted" || lowered == "x-sieve-redirected-from" {
            return false
        }
        if lowered == "subject" { return true }
        return !forbiddenToDelete.contains(lowered)
    }
}
