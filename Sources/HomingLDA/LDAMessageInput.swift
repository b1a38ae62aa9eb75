import Glibc
import HomingConfig
import HomingDelivery
import NIOCore
import NIOPosix

/// Streams the message `homing deliver` reads (standard input, or `-p`'s file) into the
/// delivery core's spool, 64 KiB at a time, never holding it whole. As dovecot-lda does, a
/// first line `From sender date` (the mbox envelope line Postfix's `local` and `pipe` may
/// prepend) is not part of the message: it is dropped, and its sender used when `-f` is not
/// given. The header is kept (up to 1 MiB) for a rejection report.
struct LDAMessageInput {
    /// The sender of a `From ` line, if the input started with one.
    var fromLineSender: String?
    /// The message's header, up to its empty line (as read, line ends included).
    var header: [UInt8] = []

    static let chunkSize = 64 * 1024
    static let headerLimit = 1 << 20
    /// Longer first lines are not taken for a `From ` line.
    static let fromLineLimit = 64 * 1024

    /// Reads everything from `descriptor` into `spool`.
    static func read(from descriptor: Int32, into spool: MessageSpool, threadPool: NIOThreadPool) async throws
        -> LDAMessageInput
    {
        var input = LDAMessageInput()
        var capture = HeaderCapture(limit: headerLimit)
        var pending: [UInt8] = []
        var decided = false
        while true {
            let chunk = try await threadPool.runIfActive { try Self.readChunk(descriptor) }
            let atEnd = chunk.isEmpty
            if !decided {
                pending += chunk
                switch Self.fromLine(in: pending, atEnd: atEnd) {
                case .undecided: continue
                case .none: decided = true
                case .line(let length, let sender):
                    input.fromLineSender = sender
                    pending.removeFirst(length)
                    decided = true
                }
                if !pending.isEmpty {
                    capture.feed(pending)
                    try await spool.write(ByteBuffer(bytes: pending))
                }
                pending = []
            } else if !atEnd {
                capture.feed(chunk)
                try await spool.write(ByteBuffer(bytes: chunk))
            }
            if atEnd { break }
        }
        input.header = capture.header
        return input
    }

    private static func readChunk(_ descriptor: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in Glibc.read(descriptor, raw.baseAddress, chunkSize) }
            if count >= 0 { return Array(buffer[0..<count]) }
            if errno == EINTR { continue }
            throw SystemCallError("read the message")
        }
    }

    enum FromLine: Equatable {
        /// More bytes are needed to tell.
        case undecided
        /// The input does not start with a `From ` line.
        case none
        /// It does: the line's length (line end included) and its sender.
        case line(length: Int, sender: String?)
    }

    /// Whether `bytes` (the start of the input) begin with an mbox `From ` line.
    static func fromLine(in bytes: [UInt8], atEnd: Bool) -> FromLine {
        let prefix = Array("From ".utf8)
        if bytes.count < prefix.count {
            return atEnd || !prefix.starts(with: bytes) ? .none : .undecided
        }
        guard bytes.starts(with: prefix) else { return .none }
        guard let newline = bytes.firstIndex(of: 10) else {
            if atEnd || bytes.count > fromLineLimit { return .none }
            return .undecided
        }
        let line = String(decoding: bytes[prefix.count..<newline], as: UTF8.self)
        return .line(length: newline + 1, sender: sender(ofFromLine: line))
    }

    /// The sender of `From sender date...`: the first word (a quoted local part kept whole),
    /// without angle brackets; nil when empty.
    static func sender(ofFromLine text: String) -> String? {
        var sender = ""
        var quoted = false
        for character in text.drop(while: { $0 == " " }) {
            if character == "\"" { quoted.toggle() }
            if !quoted, character == " " || character == "\t" || character == "\r" { break }
            sender.append(character)
        }
        if sender.hasPrefix("<"), sender.hasSuffix(">") { sender = String(sender.dropFirst().dropLast()) }
        return sender.isEmpty ? nil : sender
    }
}

/// Collects a message's header as it passes: every byte up to the first empty line (LF or
/// CRLF), at most `limit` bytes.
struct HeaderCapture {
    let limit: Int
    private(set) var header: [UInt8] = []
    private var done = false
    private var lineLength = 0
    private var lineHasOnlyCR = true

    init(limit: Int) {
        self.limit = limit
    }

    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard !done else { return }
        for byte in bytes {
            if byte == 10 {
                if lineLength == 0 || (lineLength == 1 && lineHasOnlyCR) {
                    // The empty line: drop its CR, the header is complete.
                    if lineLength == 1 { header.removeLast() }
                    done = true
                    return
                }
                header.append(byte)
                lineLength = 0
                lineHasOnlyCR = true
            } else {
                header.append(byte)
                lineLength += 1
                if byte != 13 { lineHasOnlyCR = false }
            }
            if header.count >= limit {
                done = true
                return
            }
        }
    }
}
