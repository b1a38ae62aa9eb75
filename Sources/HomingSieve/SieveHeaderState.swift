/// The header fields of the message as the running script sees them: the received ones, with
/// the changes `addheader` and `deleteheader` made so far (RFC 5293 section 7: tests see the
/// current state). Shared by the scripts of a sequence.
struct SieveHeaderState: Sendable {
    /// The received fields.
    let original: [SieveHeaderField]
    /// The current fields, each with where it came from.
    private(set) var entries: [SieveEditedHeader.Field]
    /// The current fields (kept in step with `entries`).
    private(set) var fields: [SieveHeaderField]
    /// Whether a field was added or deleted.
    private(set) var isEdited = false
    /// How many fields were added, and their size (names and values, in octets).
    private(set) var addedCount = 0
    private(set) var addedOctets = 0

    init(original: [SieveHeaderField]) {
        self.original = original
        self.entries = original.indices.map { .original($0) }
        self.fields = original
    }

    /// The edited header, `nil` while nothing was changed.
    var edited: SieveEditedHeader? {
        isEdited ? SieveEditedHeader(fields: entries) : nil
    }

    /// `addheader`: at the top, or with `last` at the bottom (RFC 5293 section 4).
    mutating func add(_ field: SieveHeaderField, last: Bool) {
        isEdited = true
        addedCount += 1
        addedOctets += field.name.utf8.count + field.rawValue.utf8.count
        if last {
            entries.append(.added(field))
            fields.append(field)
        } else {
            entries.insert(.added(field), at: 0)
            fields.insert(field, at: 0)
        }
    }

    /// `deleteheader`: the fields named `name` (case-insensitive); with `index`, only the
    /// `index`-th of them (counted from the end with `fromLast`), and of those only the ones
    /// whose value `matches` accepts. Returns how many were deleted.
    @discardableResult
    mutating func delete<E: Error>(
        _ name: String, index: Int?, fromLast: Bool, matches: (String) throws(E) -> Bool
    ) throws(E) -> Int {
        let lowered = name.lowercased()
        var positions = fields.indices.filter { fields[$0].name.lowercased() == lowered }
        if fromLast { positions.reverse() }
        if let index {
            guard index >= 1, index <= positions.count else { return 0 }
            positions = [positions[index - 1]]
        }
        var doomed: [Int] = []
        for position in positions where try matches(fields[position].rawValue) {
            doomed.append(position)
        }
        for position in doomed.sorted(by: >) {
            entries.remove(at: position)
            fields.remove(at: position)
        }
        if !doomed.isEmpty { isEdited = true }
        return doomed.count
    }
}
