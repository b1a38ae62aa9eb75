import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Splits the bytes a client sends into command lines, DATA message bytes and BDAT chunks.
///
/// A pure value: feed it each `ByteBuffer` as it arrives with ``append(_:)``, then pull
/// ``Event``s with ``next()`` until it returns `nil` (it needs more input). The framer starts
/// in command mode; the session switches it to DATA mode with ``beginData()`` (after `354`) or
/// to BDAT mode with ``beginBDAT(byteCount:)``, and it returns to command mode by itself after
/// ``Event/endOfData`` or ``Event/endOfBDATChunk``.
///
/// Memory stays bounded whatever the client sends: an incomplete command line is buffered up
/// to ``maximumLineLength`` bytes and discarded beyond that; message bytes are handed out as
/// they arrive, whatever the line lengths.
public struct LMTPInputFramer: Sendable {
    /// What the framer found in the input.
    public enum Event: Sendable, Hashable {
        /// A complete command line, without its line end (CRLF or bare LF).
        case line(ByteBuffer)
        /// A command line longer than ``LMTPInputFramer/maximumLineLength``; its bytes were discarded.
        case lineTooLong
        /// Message bytes of a DATA command, dot-unstuffed, line ends as sent.
        case dataChunk(ByteBuffer)
        /// The `.` line ending DATA was read; the framer is back in command mode.
        case endOfData
        /// Raw bytes of the current BDAT chunk.
        case bdatChunk(ByteBuffer)
        /// All the bytes announced by BDAT were read; the framer is back in command mode.
        case endOfBDATChunk
    }

    /// What the framer is currently reading.
    public enum Mode: Sendable, Hashable {
        case command
        case data
        case bdat(remaining: Int)
    }

    /// The default command line limit: a verb, a space and 4096 bytes of arguments.
    public static let defaultMaximumLineLength = 4101

    /// The longest command line accepted, line end not included.
    public let maximumLineLength: Int

    private var buffer: ByteBuffer
    private var mode: ModeState
    /// In command mode: bytes of an overlong line are being skipped up to its line end.
    private var discardingLongLine = false

    private enum DataPosition: Sendable, Hashable {
        /// At the start of a line (after LF, or right after the DATA command).
        case lineStart
        /// Inside a line.
        case midLine
        /// A `.` at the start of a line was read and held back.
        case dot
        /// `.` then CR at the start of a line were read and held back.
        case dotCR
    }

    private enum ModeState: Sendable, Hashable {
        case command
        case data(DataPosition, endPending: Bool)
        case bdat(remaining: Int)
    }

    /// Creates a framer in command mode.
    /// - Parameter maximumLineLength: the longest command line accepted (line end not counted).
    public init(maximumLineLength: Int = LMTPInputFramer.defaultMaximumLineLength) {
        self.maximumLineLength = max(1, maximumLineLength)
        self.buffer = ByteBuffer()
        self.mode = .command
    }

    /// The current mode.
    public var currentMode: Mode {
        switch mode {
        case .command: return .command
        case .data: return .data
        case .bdat(let remaining): return .bdat(remaining: remaining)
        }
    }

    /// Number of bytes received but not handed out yet.
    public var bufferedByteCount: Int { buffer.readableBytes }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            if buffer.readerIndex > 0 && buffer.readerIndex >= buffer.readableBytes {
                buffer.discardReadBytes()
            }
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
    }

    /// Switches to DATA mode: message bytes follow, up to a line holding a single `.`.
    /// Only valid in command mode (after the session answered `354`).
    public mutating func beginData() {
        mode = .data(.lineStart, endPending: false)
    }

    /// Switches to BDAT mode: exactly `byteCount` raw bytes follow.
    public mutating func beginBDAT(byteCount: Int) {
        mode = .bdat(remaining: max(0, byteCount))
    }

    /// The next event, or `nil` when more input is needed.
    public mutating func next() -> Event? {
        switch mode {
        case .command:
            return nextLine()
        case .data(let position, let endPending):
            if endPending {
                mode = .command
                return .endOfData
            }
            return nextDataChunk(position)
        case .bdat(let remaining):
            if remaining == 0 {
                mode = .command
                return .endOfBDATChunk
            }
            let available = buffer.readableBytes
            guard available > 0 else { return nil }
            let count = min(available, remaining)
            guard let chunk = buffer.readSlice(length: count) else { return nil }
            mode = .bdat(remaining: remaining - count)
            compactIfEmpty()
            return .bdatChunk(chunk)
        }
    }

    // MARK: - Command lines

    private mutating func nextLine() -> Event? {
        let newline: Int? = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        guard let newline else {
            // No line end yet: keep at most the limit (plus a possible CR) of a partial line.
            if discardingLongLine || buffer.readableBytes > maximumLineLength + 1 {
                discardingLongLine = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                compactIfEmpty()
            }
            return nil
        }
        let lineLength = newline - buffer.readerIndex
        var line = buffer.readSlice(length: lineLength) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: 1)
        compactIfEmpty()
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if discardingLongLine {
            discardingLongLine = false
            return .lineTooLong
        }
        if line.readableBytes > maximumLineLength {
            return .lineTooLong
        }
        return .line(line)
    }

    // MARK: - DATA

    private mutating func nextDataChunk(_ start: DataPosition) -> Event? {
        var position = start
        var output: ByteBuffer?
        var ended = false

        func emit(_ bytes: ByteBuffer, into output: inout ByteBuffer?) {
            if output == nil {
                output = bytes
            } else {
                var bytes = bytes
                output?.writeBuffer(&bytes)
            }
        }
        func emitDot(cr: Bool, into output: inout ByteBuffer?) {
            // Held-back bytes of a line that turned out not to be the end: the leading dot
            // is removed (dot-unstuffing); a CR after it belongs to the message.
            guard cr else { return }
            var carriageReturn = ByteBuffer()
            carriageReturn.writeInteger(UInt8(ascii: "\r"))
            emit(carriageReturn, into: &output)
        }

        scan: while buffer.readableBytes > 0 {
            switch position {
            case .lineStart:
                guard let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { break scan }
                if byte == UInt8(ascii: ".") {
                    buffer.moveReaderIndex(forwardBy: 1)
                    position = .dot
                } else {
                    position = .midLine
                }
            case .midLine:
                // One slice up to the next line that starts with a dot (or the end of what
                // arrived): lines are found with memchr and nothing is copied.
                let (length, atLineStart) = Self.runWithoutDotLine(buffer)
                if let run = buffer.readSlice(length: length) { emit(run, into: &output) }
                if atLineStart { position = .lineStart }
            case .dot:
                guard let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { break scan }
                if byte == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                    ended = true
                    break scan
                } else if byte == UInt8(ascii: "\r") {
                    buffer.moveReaderIndex(forwardBy: 1)
                    position = .dotCR
                } else {
                    emitDot(cr: false, into: &output)
                    position = .midLine
                }
            case .dotCR:
                guard let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { break scan }
                if byte == UInt8(ascii: "\n") {
                    buffer.moveReaderIndex(forwardBy: 1)
                    ended = true
                    break scan
                } else {
                    emitDot(cr: true, into: &output)
                    position = .midLine
                }
            }
        }
        compactIfEmpty()

        if ended {
            if let output, output.readableBytes > 0 {
                mode = .data(position, endPending: true)
                return .dataChunk(output)
            }
            mode = .command
            return .endOfData
        }
        mode = .data(position, endPending: false)
        if let output, output.readableBytes > 0 {
            return .dataChunk(output)
        }
        return nil
    }

    /// From the reader index, which is inside a line: the length of the bytes up to and
    /// including the LF before the next line that starts with `.`, or up to the end of the
    /// readable bytes. `atLineStart` says whether the run ends with an LF.
    private static func runWithoutDotLine(_ buffer: ByteBuffer) -> (length: Int, atLineStart: Bool) {
        buffer.withUnsafeReadableBytes { raw -> (Int, Bool) in
            guard let base = raw.baseAddress else { return (0, false) }
            let count = raw.count
            var start = 0
            while start < count {
                guard let hit = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start) else {
                    return (count, false)
                }
                let next = base.distance(to: UnsafeRawPointer(hit)) + 1
                if next == count || raw[next] == UInt8(ascii: ".") { return (next, true) }
                start = next
            }
            return (count, false)
        }
    }

    private mutating func compactIfEmpty() {
        // Drop the consumed storage (it may be shared with handed-out slices) instead of
        // writing into it again.
        if buffer.readableBytes == 0 && buffer.readerIndex > 0 {
            buffer = ByteBuffer()
        }
    }
}
