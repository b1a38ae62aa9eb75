import Glibc
import HomingMaildir

/// The header of a spooled message: the bytes up to the empty line that ends it (LF line ends,
/// as the spool holds them), read with `pread` and never more than a limit, so a message whose
/// header never ends costs at most that much memory.
public enum MessageHeaderBlock {
    /// The most header bytes a notification quotes (whole lines only).
    public static let defaultLimit = 1 << 20

    /// The header of `spool` without the empty line ending it; cut after the last complete line
    /// within `limit` bytes. Empty when the message has no header or cannot be read.
    public static func read(from spool: SpooledMessage, limit: Int = defaultLimit) -> [UInt8] {
        var header: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        var previous: UInt8 = 10  // at the start of a line
        while offset < spool.size, header.count < limit {
            let wanted = min(buffer.count, spool.size - offset)
            let count = buffer.withUnsafeMutableBytes { raw in
                pread(spool.fileDescriptor, raw.baseAddress, wanted, off_t(offset))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            for index in 0..<count {
                let byte = buffer[index]
                if byte == 10, previous == 10 { return header }
                header.append(byte)
                previous = byte
                if header.count >= limit { break }
            }
            offset += count
        }
        // No empty line within the limit (or the message is all header): keep whole lines.
        if header.last != 10, let end = header.lastIndex(of: 10) { header.removeSubrange((end + 1)...) }
        return header
    }

    /// The value of the first field `name` (case-insensitive) in `header`, unfolded; nil when
    /// there is none.
    public static func firstField(_ name: String, in header: [UInt8]) -> String? {
        let lowered = Array(name.lowercased().utf8) + [UInt8(ascii: ":")]
        var lines = header.split(separator: 10, omittingEmptySubsequences: false)[...]
        while let line = lines.first {
            lines = lines.dropFirst()
            let prefix = line.prefix(lowered.count).map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
            guard prefix == lowered else { continue }
            var value = Array(line.dropFirst(lowered.count))
            while let next = lines.first, let first = next.first, first == 32 || first == 9 {
                value += next
                lines = lines.dropFirst()
            }
            return String(decoding: value, as: UTF8.self).trimmingCharacters(in: " \t\r")
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
