import Foundation
import Glibc

/// A TCP server on loopback that accepts every connection and never sends a byte: a userdb
/// back end that hangs. Connections stay open until ``stop()``.
public final class SilentTCPServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let listener: Int32
    private let accepted = Locked<[Int32]>([])

    /// Listens on a free port of 127.0.0.1 and accepts in a thread of its own.
    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw TestProcessError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw TestProcessError(message: "bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let accepted = self.accepted
        Thread.detachNewThread {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 {
                    if errno == EINTR { continue }
                    return  // the listener was shut down
                }
                accepted.withValue { $0.append(fd) }
            }
        }
    }

    /// Connections accepted so far.
    public var acceptedCount: Int { accepted.withValue { $0.count } }

    /// Closes the listener and every accepted connection.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        accepted.withValue { fds in
            for fd in fds { close(fd) }
            fds.removeAll()
        }
    }
}
