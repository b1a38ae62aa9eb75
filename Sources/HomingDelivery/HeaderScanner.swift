#if canImport(Glibc)
    import Glibc
#endif

/// Picks a few headers (Message-ID, Subject, From) out of a message's header section as its
/// LF-normalized bytes stream by, for log lines. Stops at the end of the header section or
/// after `limit` bytes, and keeps at most 998 bytes of any one header.
///
/// It works on bytes: lines are found with `memchr`, a header's name is compared with the
/// wanted ones without making a string, and only a wanted header's value becomes a `String`
/// (bench/micro measures it).
public struct HeaderScanner: Sendable {
    /// Unfolded values of the wanted headers, by lower-cased name; the first occurrence wins.
    public private(set) var values: [String: String] = [:]
    /// The wanted names, lower-cased, as bytes.
    private let wantedNames: [[UInt8]]
    private var line: [UInt8] = []
    /// The header being gathered (its first line and continuations), without line ends.
    private var current: [UInt8] = []
    private var scanned = 0
    private let limit: Int
    private var done = false

    /// The longest line (and header) kept, as RFC 5322 allows.
    private static let maximumLine = 998

    public init(wanted: Set<String> = ["message-id", "subject", "from"], limit: Int = 256 * 1024) {
        self.wantedNames = wanted.map { Array($0.lowercased().utf8) }
        self.limit = limit
        line.reserveCapacity(128)
        current.reserveCapacity(128)
    }

    /// Feeds LF-normalized message bytes.
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard !done else { return }
        let fed: Void? = bytes.withContiguousStorageIfAvailable { feed(contiguous: $0) }
        if fed == nil {
            Array(bytes).withUnsafeBufferPointer { feed(contiguous: $0) }
        }
    }

    /// The work of ``feed(_:)``: each line end is found with `memchr`, the bytes before it are
    /// appended to the line (up to its limit) at once.
    private mutating func feed(contiguous input: UnsafeBufferPointer<UInt8>) {
        guard var base = input.baseAddress else { return }
        var remaining = input.count
        while remaining > 0, !done {
            let allowed = limit - scanned
            if allowed <= 0 {
                finish()
                return
            }
            let window = min(remaining, allowed)
            let found = memchr(base, Int32(UInt8(ascii: "\n")), window)
            let length = found.map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? window
            keep(UnsafeBufferPointer(start: base, count: length))
            if found == nil {
                scanned += window
                remaining -= window
                base += window
                continue
            }
            scanned += length + 1
            remaining -= length + 1
            base += length + 1
            endLine()
        }
    }

    /// Appends line bytes, keeping at most ``maximumLine`` of them.
    private mutating func keep(_ bytes: UnsafeBufferPointer<UInt8>) {
        let room = Self.maximumLine - line.count
        guard room > 0, !bytes.isEmpty else { return }
        line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes.prefix(room)))
    }

    /// Ends the scan (also at end of message without a body).
    public mutating func finish() {
        if !done {
            if !line.isEmpty { endLine() }
            commit()
            done = true
        }
    }

    /// The `Message-ID` header, trimmed, if present.
    public var messageID: String? { values["message-id"] }

    private mutating func endLine() {
        defer { line.removeAll(keepingCapacity: true) }
        var end = line.count
        if end > 0, line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end == 0 {
            commit()
            done = true
            return
        }
        if line[0] == UInt8(ascii: " ") || line[0] == UInt8(ascii: "\t") {
            if !current.isEmpty, current.count < Self.maximumLine { current.append(contentsOf: line[..<end]) }
            return
        }
        commit()
        current.append(contentsOf: line[..<end])
    }

    private mutating func commit() {
        defer { current.removeAll(keepingCapacity: true) }
        guard let colon = current.firstIndex(of: UInt8(ascii: ":")) else { return }
        guard let name = wantedName(current[..<colon]), values[name] == nil else { return }
        var value = Array(current[(colon + 1)...])
        for index in value.indices where value[index] == UInt8(ascii: "\t") { value[index] = UInt8(ascii: " ") }
        let first = value.firstIndex { $0 != UInt8(ascii: " ") } ?? value.endIndex
        let last = value.lastIndex { $0 != UInt8(ascii: " ") }.map { $0 + 1 } ?? first
        values[name] = String(decoding: value[first..<max(first, last)], as: UTF8.self)
    }

    /// The wanted name `field` is (spaces and tabs around it ignored, compared without case),
    /// or nil.
    private func wantedName(_ field: ArraySlice<UInt8>) -> String? {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = field.firstIndex(where: { !isBlank($0) }),
            let end = field.lastIndex(where: { !isBlank($0) })
        else {
            return wantedNames.contains([]) ? "" : nil
        }
        let name = field[start...end]
        if name.contains(where: { $0 >= 0x80 }) {
            // Not ASCII: compare as the wanted set was given, through Unicode lower-casing.
            let lowered = String(decoding: name, as: UTF8.self).lowercased()
            return wantedNames.contains(Array(lowered.utf8)) ? lowered : nil
        }
        for wanted in wantedNames where wanted.count == name.count {
            if zip(wanted, name).allSatisfy({ $0 == Self.asciiLowercased($1) }) {
                return String(decoding: wanted, as: UTF8.self)
            }
        }
        return nil
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
