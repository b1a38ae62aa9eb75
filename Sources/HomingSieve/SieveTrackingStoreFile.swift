/// The content of a tracking file, as a pure value: parsing, pruning and serialising, no I/O.
///
/// Format (text, one entry a line, LF line ends):
///
///     homing-sieve-tracking 1
///     <64 hex digits: SHA-256 of the key> <expiry, seconds since 1970 UTC>
///
/// Keys are stored hashed: the file reveals no addresses or message ids, every line has the same
/// shape, and a key may contain any character (line ends, spaces) without escaping.
struct SieveTrackingStoreFile: Sendable, Hashable {
    /// The first line of every tracking file.
    static let magic = "homing-sieve-tracking 1"

    /// Key digest → expiry (seconds since 1970).
    var entries: [String: Int64]

    /// An empty table.
    init(entries: [String: Int64] = [:]) {
        self.entries = entries
    }

    /// The result of reading a file: the entries that could be read and, when something was
    /// wrong, a sentence saying what (the caller logs it; the store goes on with what it has).
    struct Parsed: Sendable, Hashable {
        var file: SieveTrackingStoreFile
        var problem: String?
    }

    /// Parses the octets of a tracking file. Never fails: an unknown format gives an empty table
    /// and a problem, malformed lines are skipped and counted in the problem.
    static func parse(_ bytes: [UInt8]) -> Parsed {
        if bytes.isEmpty { return Parsed(file: SieveTrackingStoreFile(), problem: nil) }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == magic else {
            return Parsed(
                file: SieveTrackingStoreFile(),
                problem: "not a Homing Sieve tracking file (first line is not '\(magic)'); treating it as empty")
        }
        var table = SieveTrackingStoreFile()
        var malformed = 0
        for (index, line) in lines.enumerated().dropFirst() {
            if line.isEmpty && index == lines.count - 1 { break }  // the final line end
            guard let (digest, expiry) = parseEntry(line) else {
                malformed += 1
                continue
            }
            table.entries[digest] = max(table.entries[digest] ?? Int64.min, expiry)
        }
        let problem =
            malformed == 0
            ? nil : "ignored \(malformed) malformed line\(malformed == 1 ? "" : "s") (the file is damaged)"
        return Parsed(file: table, problem: problem)
    }

    private static func parseEntry(_ line: ArraySlice<UInt8>) -> (String, Int64)? {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 2, fields[0].count == 64 else { return nil }
        for byte in fields[0] {
            let isHex =
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            if !isHex { return nil }
        }
        guard !fields[1].isEmpty, fields[1].count <= 19,
            fields[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let expiry = Int64(String(decoding: fields[1], as: UTF8.self))
        else { return nil }
        return (String(decoding: fields[0], as: UTF8.self), expiry)
    }

    /// Whether `digest` is present and not yet expired at `now`.
    func contains(digest: String, now: Int64) -> Bool {
        guard let expiry = entries[digest] else { return false }
        return expiry > now
    }

    /// Drops the entries expired at `now`.
    mutating func prune(now: Int64) {
        entries = entries.filter { $0.value > now }
    }

    /// Records `digest` until `expiry`; an existing later expiry is kept.
    mutating func insert(digest: String, expiry: Int64) {
        entries[digest] = max(entries[digest] ?? Int64.min, expiry)
    }

    /// Keeps at most `limit` entries, dropping those that expire first.
    mutating func limit(to limit: Int) {
        guard entries.count > limit else { return }
        let kept = entries.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(max(limit, 0))
        entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    /// The file content: the magic line, then the entries sorted by digest.
    func serialized() -> [UInt8] {
        var out = Array((Self.magic + "\n").utf8)
        for (digest, expiry) in entries.sorted(by: { $0.key < $1.key }) {
            out.append(contentsOf: "\(digest) \(expiry)\n".utf8)
        }
        return out
    }
}
