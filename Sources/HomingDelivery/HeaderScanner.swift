/// Picks a few headers (Message-ID, Subject, From) out of a message's header section as its
/// LF-normalized bytes stream by, for log lines. Stops at the end of the header section or
/// after `limit` bytes, and keeps at most 998 bytes of any one header.
public struct HeaderScanner: Sendable {
    /// Unfolded values of the wanted headers, by lower-cased name; the first occurrence wins.
    public private(set) var values: [String: String] = [:]
    private let wanted: Set<String>
    private var line: [UInt8] = []
    private var current: [UInt8] = []
    private var scanned = 0
    private let limit: Int
    private var done = false

    public init(wanted: Set<String> = ["message-id", "subject", "from"], limit: Int = 256 * 1024) {
        self.wanted = wanted
        self.limit = limit
    }

    /// Feeds LF-normalized message bytes.
    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard !done else { return }
        for byte in bytes {
            scanned += 1
            if scanned > limit {
                finish()
                return
            }
            if byte == UInt8(ascii: "\n") {
                endLine()
                if done { return }
            } else if line.count < 998 {
                line.append(byte)
            }
        }
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
        var text = line
        line.removeAll(keepingCapacity: true)
        if text.last == UInt8(ascii: "\r") { text.removeLast() }
        if text.isEmpty {
            commit()
            done = true
            return
        }
        if text.first == UInt8(ascii: " ") || text.first == UInt8(ascii: "\t") {
            if !current.isEmpty, current.count < 998 { current.append(contentsOf: text) }
            return
        }
        commit()
        current = text
    }

    private mutating func commit() {
        defer { current.removeAll(keepingCapacity: true) }
        guard let colon = current.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = String(decoding: current[..<colon], as: UTF8.self).lowercased()
            .trimmingSpaces()
        guard wanted.contains(name), values[name] == nil else { return }
        let value = String(decoding: current[(colon + 1)...], as: UTF8.self)
        values[name] = value.replacingTabs().trimmingSpaces()
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    fileprivate func replacingTabs() -> String {
        String(self.map { $0 == "\t" ? " " : $0 })
    }
}
