#if canImport(Glibc)
    import Glibc
#endif

/// Reads an `OutgoingMessage` in chunks: the prefix, then the body file from its offset.
struct OutgoingMessageReader: ~Copyable {
    private let message: OutgoingMessage
    private var prefixSent = false
    private var descriptor: Int32 = -1
    private var finished = false
    private let chunkSize: Int

    /// Opens the body file (if any) now, so a missing file fails before anything is sent.
    init(_ message: OutgoingMessage, chunkSize: Int = 65_536) throws(SubmissionError) {
        self.message = message
        self.chunkSize = chunkSize
        if let path = message.bodyFile {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 {
                throw SubmissionError(temporary: true, "cannot open the message file \(path): \(Self.describe(errno))")
            }
            if message.bodyOffset > 0 && lseek(descriptor, off_t(message.bodyOffset), SEEK_SET) < 0 {
                let code = errno
                _ = close(descriptor)
                throw SubmissionError(temporary: true, "cannot seek in the message file \(path): \(Self.describe(code))")
            }
            self.descriptor = descriptor
        }
    }

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }
    }

    /// The next chunk, or `nil` at the end.
    mutating func next() throws(SubmissionError) -> [UInt8]? {
        if !prefixSent {
            prefixSent = true
            if !message.prefix.isEmpty { return message.prefix }
        }
        guard descriptor >= 0, !finished else { return nil }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SubmissionError(
                    temporary: true, "cannot read the message file \(message.bodyFile ?? ""): \(Self.describe(errno))")
            }
            if count == 0 {
                finished = true
                return nil
            }
            return Array(buffer[0..<count])
        }
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
