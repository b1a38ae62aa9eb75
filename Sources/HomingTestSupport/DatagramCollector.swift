import Foundation
import Glibc

/// A unix datagram socket that collects what is sent to it (a stand-in syslog daemon, journal
/// or systemd notify socket), read on a thread of its own.
public final class DatagramCollector: Sendable {
    /// The socket's path.
    public let path: String
    private let descriptor: Int32
    private let received = Locked<[[UInt8]]>([])

    /// Binds `path` (removing a file there first).
    public init(path: String) throws {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let rc = TestSocketAddress.unix(path) { bind(fd, $0, $1) }
        guard fd >= 0, rc == 0 else {
            Glibc.close(fd)
            throw TestProcessError(message: "cannot bind \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o666)
        self.path = path
        self.descriptor = fd
        let received = self.received
        Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 { if errno == EINTR { continue } else { break } }
                received.append(Array(buffer[..<n]))
            }
        }.start()
    }

    /// Every datagram so far.
    public var datagrams: [[UInt8]] { received.current }

    /// The datagrams as text.
    public var messages: [String] { datagrams.map { String(decoding: $0, as: UTF8.self) } }

    /// Waits (up to `seconds`) until a datagram satisfies `condition`.
    @discardableResult
    public func wait(seconds: Double = 20, for condition: (String) -> Bool) async -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let match = messages.first(where: condition) { return match }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return messages.first(where: condition)
    }

    /// Stops receiving and removes the socket.
    public func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
        unlink(path)
    }
}
