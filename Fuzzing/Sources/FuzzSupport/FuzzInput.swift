import Glibc

/// The bytes libFuzzer passes to `LLVMFuzzerTestOneInput`, bounded in size.
///
/// Each target refuses inputs above its own limit (returns without running), so that a run
/// tests the code rather than the machine: the parsers are linear or close to it, and what
/// a few kilobytes cannot reach, megabytes would only make slow.
public enum FuzzInput {
    /// The input as an array, or `nil` when it is longer than `limit` bytes.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int, limit: Int) -> [UInt8]? {
        guard size <= limit else { return nil }
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

/// Reads an input from the front: a few bytes that choose options, then the rest.
///
/// Options taken from the input (rather than random numbers) keep every run reproducible
/// from the crashing input alone.
public struct FuzzByteReader {
    private var bytes: ArraySlice<UInt8>

    /// Reads `bytes` from the start.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    /// The next byte, or 0 when the input is used up.
    public mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// What is left.
    public var rest: [UInt8] { Array(bytes) }
}

/// Fails the run with a message when an invariant of the code under test does not hold.
///
/// libFuzzer reports the trap like a crash, with the input that caused it.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        writeStandardError("invariant broken: \(message())\n")
        abort()
    }
}


/// Writes `text` to standard error, unbuffered (the process may abort right after).
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let count = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return }
        bytes = bytes.dropFirst(count)
    }
}
