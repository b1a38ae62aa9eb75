import Foundation
import Glibc

/// A TCP listener on 127.0.0.1 that plays a broken LMTP server: it accepts connections and
/// sends `banner` (or nothing at all), then keeps them open without answering, until
/// ``close()``. For the proxy's timeout and bad-reply tests.
final class MisbehavingLMTPServer: @unchecked Sendable {
    // @unchecked: `fd` is set once in init; the accept thread only reads it, and close()
    // shuts the socket down, which ends that thread's accept().
    let port: Int
    private let fd: Int32

    init(banner: String?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw CocoaError(.fileWriteUnknown) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        Thread {
            var open: [Int32] = []
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { break }
                open.append(client)
                if let banner { _ = banner.withCString { write(client, $0, strlen($0)) } }
            }
            for client in open { Glibc.close(client) }
        }.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
