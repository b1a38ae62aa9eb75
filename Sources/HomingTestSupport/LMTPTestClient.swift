import Foundation
import Glibc

/// A plain blocking LMTP/SMTP client for tests: connects to a unix socket or a TCP port,
/// sends lines, reads replies. Each call runs on its own thread so tests stay async.
public final class LMTPTestClient: @unchecked Sendable {
    // @unchecked: the descriptor and buffer are used by one test at a time, each call
    // completing before the next starts (the tests await every call).
    private let fd: Int32
    private var buffer: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Connects to a unix socket.
    public static func connect(unixPath: String) async throws -> LMTPTestClient {
        try await onThread {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard let rc = TestSocketAddress.unix(unixPath, { Glibc.connect(fd, $0, $1) }) else {
                close(fd)
                throw TestClientError(message: "socket path too long: \(unixPath)")
            }
            if rc != 0 {
                let code = errno
                close(fd)
                throw TestClientError(message: "connect \(unixPath): \(String(cString: strerror(code)))")
            }
            return LMTPTestClient(fd: fd)
        }
    }

    /// Connects to 127.0.0.1:port. With `sourceAddress` (an IPv4 address such as
    /// `127.0.0.2`: all of 127/8 is the loopback), the connection comes from that address, so a
    /// server sees a peer other than 127.0.0.1 (a proxy's client, an untrusted network).
    public static func connect(port: Int, host: String = "127.0.0.1", sourceAddress: String? = nil) async throws
        -> LMTPTestClient
    {
        try await onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if let sourceAddress {
                let bound = TestSocketAddress.inet(sourceAddress, port: 0) { bind(fd, $0, $1) }
                if bound != 0 {
                    let code = errno
                    close(fd)
                    throw TestClientError(message: "bind \(sourceAddress): \(String(cString: strerror(code)))")
                }
            }
            let rc = TestSocketAddress.inet(host, port: port) { Glibc.connect(fd, $0, $1) }
            if rc != 0 {
                let code = errno
                close(fd)
                throw TestClientError(message: "connect \(host):\(port): \(String(cString: strerror(code)))")
            }
            return LMTPTestClient(fd: fd)
        }
    }

    /// Connects to a unix socket, reads the greeting and says `LHLO lhlo`; with `sender`, also
    /// opens a transaction with `MAIL FROM:<sender>`. The opening every session test shares.
    public static func session(unixPath: String, lhlo: String = "x", from sender: String? = nil) async throws
        -> LMTPTestClient
    {
        let client = try await connect(unixPath: unixPath)
        try await client.open(lhlo: lhlo, from: sender)
        return client
    }

    /// Reads the greeting, says `LHLO lhlo` and, with `sender`, `MAIL FROM:<sender>`; throws
    /// when a reply is not the expected positive one.
    public func open(lhlo: String = "x", from sender: String? = nil) async throws {
        let greeting = try await readReply()
        guard greeting.first?.hasPrefix("220 ") == true else {
            throw TestClientError(message: "unexpected greeting: \(greeting)")
        }
        let reply = try await command("LHLO \(lhlo)")
        guard reply.last?.hasPrefix("250 ") == true else { throw TestClientError(message: "LHLO: \(reply)") }
        if let sender {
            let mail = try await command("MAIL FROM:<\(sender)>")
            guard mail == ["250 2.1.0 OK"] else { throw TestClientError(message: "MAIL FROM: \(mail)") }
        }
    }

    /// Sends raw text (include the CRLFs yourself).
    public func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Sends raw bytes.
    public func send(_ bytes: [UInt8]) async throws {
        try await Self.onThread { try self.sendBlocking(bytes) }
    }

    /// Sends `count` bytes produced by `chunk` repeatedly (for very large messages),
    /// without building them in memory at once.
    public func sendRepeated(_ chunk: [UInt8], times: Int) async throws {
        try await Self.onThread {
            for _ in 0..<times { try self.sendBlocking(chunk) }
        }
    }

    /// Reads one reply (all its lines), e.g. `["250-mx", "250 PIPELINING"]`.
    public func readReply() async throws -> [String] {
        try await Self.onThread { try self.readReplyBlocking() }
    }

    /// Reads `count` replies, returning every line.
    public func readReplies(_ count: Int) async throws -> [String] {
        try await Self.onThread {
            var lines: [String] = []
            for _ in 0..<count { lines += try self.readReplyBlocking() }
            return lines
        }
    }

    /// Sends a command line and reads its reply's lines.
    public func command(_ line: String) async throws -> [String] {
        try await send(line + "\r\n")
        return try await readReply()
    }

    /// Everything the peer sends until it closes the connection, as text.
    public func readAll() async throws -> String {
        try await Self.onThread {
            var bytes = self.buffer
            self.buffer = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw TestClientError(message: "recv: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                bytes += chunk[..<n]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// True once the server has closed the connection (reads return end of file).
    public func isClosedByPeer() async throws -> Bool {
        try await Self.onThread {
            var byte: UInt8 = 0
            return recv(self.fd, &byte, 1, 0) == 0
        }
    }

    private func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestClientError(message: "send: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    private func readLineBlocking() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<lf])
                buffer.removeSubrange(...lf)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestClientError(message: "recv: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw TestClientError(message: "connection closed by the server; unread: \(String(decoding: buffer, as: UTF8.self))") }
            buffer += chunk[..<n]
        }
    }

    private func readReplyBlocking() throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try readLineBlocking()
            lines.append(line)
            let chars = Array(line.utf8)
            if chars.count < 4 || chars[3] != UInt8(ascii: "-") { return lines }
        }
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await runOnThread(body)
    }
}

public struct TestClientError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
