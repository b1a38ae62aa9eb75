/// Splits the header of a message or MIME part into fields (RFC 5322 section 2.2).
///
/// Robust like a delivery agent must be: LF or CRLF line ends; folded lines (a line starting
/// with space or tab) are joined to the field before them with the line break removed
/// (RFC 5322 section 2.2.3 unfolding); white space after the colon and at the end of the
/// value is removed; white space between a field name and its colon
/// (obsolete syntax) is accepted; a line that is not a field (no colon, or an invalid name)
/// is skipped and the header goes on, as Dovecot does. The header ends at the first empty line.
public struct SieveMessageHeaderParser: Sendable {
    /// The result of parsing a header.
    public struct Result: Sendable, Hashable {
        /// The fields in order, values unfolded, without the leading white space.
        public var fields: [SieveHeaderField]
        /// The index in the input of the first body byte (after the empty line), or its end index
        /// when the header has no end.
        public var bodyOffset: Int
        /// Whether the header was longer than the bound: fields past it are left out.
        public var truncated: Bool
    }

    /// Parses the header at the start of `bytes`, keeping fields that end within
    /// `maxHeaderSize` bytes. The body offset is found even past the bound.
    public static func parse<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, maxHeaderSize: Int = .max) -> Result
    where Bytes.Index == Int {
        var fields: [SieveHeaderField] = []
        var truncated = false
        var current: [UInt8] = []
        var hasCurrent = false
        let start = bytes.startIndex
        let end = bytes.endIndex
        var lineStart = start
        var bodyOffset = end

        func finish() {
            if hasCurrent, let field = makeField(current) {
                fields.append(field)
            }
            current.removeAll(keepingCapacity: true)
            hasCurrent = false
        }

        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == lineStart {
                // Empty line: end of the header (a lone CR line counts too).
                bodyOffset = next
                break
            }
            let withinBound = next - start <= maxHeaderSize
            if !withinBound { truncated = true }
            let first = bytes[lineStart]
            if first == 0x20 || first == 0x09 {
                if hasCurrent && withinBound {
                    current.append(contentsOf: bytes[lineStart..<contentEnd])
                }
            } else {
                finish()
                if withinBound {
                    current.append(contentsOf: bytes[lineStart..<contentEnd])
                    hasCurrent = true
                }
            }
            lineStart = next
        }
        finish()
        return Result(fields: fields, bodyOffset: bodyOffset, truncated: truncated)
    }

    /// How many fields `parse(bytes, maxHeaderSize:)` finds.
    static func fieldCount<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, maxHeaderSize: Int = .max) -> Int
    where Bytes.Index == Int {
        parse(bytes, maxHeaderSize: maxHeaderSize).fields.count
    }

    /// A field from one unfolded line, or `nil` when the line is not a field.
    static func makeField(_ line: [UInt8]) -> SieveHeaderField? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var nameEnd = colon
        while nameEnd > 0 && (line[nameEnd - 1] == 0x20 || line[nameEnd - 1] == 0x09) { nameEnd -= 1 }
        guard nameEnd > 0 else { return nil }
        let name = line[0..<nameEnd]
        // RFC 5322 ftext: printable US-ASCII except colon.
        guard name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return nil }
        var valueStart = colon + 1
        while valueStart < line.count && (line[valueStart] == 0x20 || line[valueStart] == 0x09) {
            valueStart += 1
        }
        var valueEnd = line.count
        while valueEnd > valueStart && (line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 || line[valueEnd - 1] == 0x0D) {
            valueEnd -= 1
        }
        return SieveHeaderField(
            name: String(decoding: name, as: UTF8.self),
            rawValue: String(decoding: line[valueStart..<valueEnd], as: UTF8.self))
    }
}
