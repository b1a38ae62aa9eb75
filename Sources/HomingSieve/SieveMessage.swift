#if canImport(Glibc)
import Glibc
#endif

/// A message for Sieve, read from a file (delivery, `sieve-test`) or from bytes (tests).
///
/// The header is parsed when the message is created and kept in memory up to
/// `maxHeaderSize` bytes (fields past the bound are left out, `headerTruncated` says so).
/// The body stays in the file: `bodyTexts` reads at most `maxBodyBytes` of it per call, so a
/// 100 MB message never lands in memory; MIME parts past the bound are not seen.
///
/// Line ends may be LF (Homing's spool) or CRLF. `size` counts every line end as CRLF: the
/// size of the message as delivered over SMTP/LMTP (RFC 5228 section 5.9), which is also the
/// size Dovecot reports (the maildir `W=` virtual size), so `size :over` gives the same answer
/// whichever way the message was stored. `bodyTexts(.raw)` keeps the line ends as stored.
public struct SieveMessage: SieveMessageSource {
    private enum Storage: Sendable {
        case file(String)
        case bytes([UInt8])
    }

    private let storage: Storage
    /// The header fields in message order: names as written, values unfolded, not decoded.
    public let headerFields: [SieveHeaderField]
    /// The size in octets with CRLF line ends.
    public let size: Int
    /// Where the body starts in the stored message.
    public let bodyOffset: Int
    /// The number of bytes stored (file size).
    public let storedSize: Int
    /// Whether the header was longer than `maxHeaderSize` and fields were left out.
    public let headerTruncated: Bool
    /// The most body bytes one `bodyTexts` call reads.
    public let maxBodyBytes: Int

    /// Reads the message in the file at `path`: the header now, the body when asked.
    ///
    /// - Throws: `SieveMessageError` when the file cannot be opened or read, or is not a
    ///   regular file.
    public init(path: String, maxHeaderSize: Int = 1 << 20, maxBodyBytes: Int = 10 << 20) throws(SieveMessageError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SieveMessageError("cannot open message file \(path): \(Self.systemError())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SieveMessageError("cannot read message file \(path): \(Self.systemError())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SieveMessageError("message file \(path) is not a regular file")
        }
        var scanner = SieveMessageScanner(maxHeaderSize: maxHeaderSize)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SieveMessageError("cannot read message file \(path): \(Self.systemError())")
            }
            if count == 0 { break }
            scanner.consume(chunk[0..<count])
        }
        self.init(storage: .file(path), scanner: scanner, maxHeaderSize: maxHeaderSize, maxBodyBytes: maxBodyBytes)
    }

    /// A message held in memory (tests, `sieve-test` on standard input).
    public init(bytes: [UInt8], maxHeaderSize: Int = 1 << 20, maxBodyBytes: Int = 10 << 20) {
        var scanner = SieveMessageScanner(maxHeaderSize: maxHeaderSize)
        scanner.consume(bytes)
        self.init(storage: .bytes(bytes), scanner: scanner, maxHeaderSize: maxHeaderSize, maxBodyBytes: maxBodyBytes)
    }

    /// A message held in memory, from text (line ends as written).
    public init(text: String, maxHeaderSize: Int = 1 << 20, maxBodyBytes: Int = 10 << 20) {
        self.init(bytes: Array(text.utf8), maxHeaderSize: maxHeaderSize, maxBodyBytes: maxBodyBytes)
    }

    private init(storage: Storage, scanner: SieveMessageScanner, maxHeaderSize: Int, maxBodyBytes: Int) {
        self.storage = storage
        let header = SieveMessageHeaderParser.parse(scanner.headerBytes, maxHeaderSize: maxHeaderSize)
        headerFields = header.fields
        headerTruncated = header.truncated || scanner.headerBytes.count > maxHeaderSize
        size = scanner.sizeWithCRLF
        storedSize = scanner.byteCount
        bodyOffset = scanner.bodyOffset ?? scanner.byteCount
        self.maxBodyBytes = max(0, maxBodyBytes)
    }

    /// The body under `transform` (RFC 5173), from at most `maxBodyBytes` bytes of the body.
    ///
    /// - Throws: `SieveMessageError` when the message file cannot be read any more.
    public func bodyTexts(_ transform: SieveBodyTransform) throws(SieveMessageError) -> [String] {
        let body = try bodyBytes()
        if case .raw = transform {
            return [String(decoding: body, as: UTF8.self)]
        }
        let root = SieveMIMEParser.parse(body: body[...], headerFields: headerFields, headerRange: 0..<0)
        return SieveMIMEBodyExtractor.texts(transform, root: root, bytes: body[...])
    }

    /// The MIME structure of the (bounded) body; ranges index `bodyBytes()`.
    public func mimeStructure() throws(SieveMessageError) -> (body: [UInt8], root: SieveMIMEEntity) {
        let body = try bodyBytes()
        return (body, SieveMIMEParser.parse(body: body[...], headerFields: headerFields, headerRange: 0..<0))
    }

    /// At most `maxBodyBytes` bytes of the body, as stored.
    public func bodyBytes() throws(SieveMessageError) -> [UInt8] {
        let length = min(maxBodyBytes, max(0, storedSize - bodyOffset))
        switch storage {
        case .bytes(let bytes):
            let start = min(bodyOffset, bytes.count)
            return Array(bytes[start..<min(bytes.count, start + length)])
        case .file(let path):
            guard length > 0 else { return [] }
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw SieveMessageError("cannot open message file \(path): \(Self.systemError())")
            }
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: length)
            var filled = 0
            while filled < length {
                let count = buffer.withUnsafeMutableBytes {
                    pread(descriptor, $0.baseAddress.map { $0 + filled }, length - filled, off_t(bodyOffset + filled))
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SieveMessageError("cannot read message file \(path): \(Self.systemError())")
                }
                if count == 0 { break }
                filled += count
            }
            buffer.removeSubrange(filled...)
            return buffer
        }
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }
}
