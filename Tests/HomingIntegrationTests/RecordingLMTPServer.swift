import Foundation
import Glibc
import HomingTestSupport

/// A minimal LMTP server on 127.0.0.1 that accepts everything and records every command line
/// it receives (message bytes left out): to see exactly what a proxy sends its destination.
/// It offers `capabilities` after `LHLO`. Stops with ``close()``.
final class RecordingLMTPServer: @unchecked Sendable {
    // @unchecked: `listener` is set once in init; the accept thread only reads it, and
    // close() shuts the socket down, which ends that thread's accept().
    let port: Int
    private let listener: Int32
    private let recorded = Locked<[String]>([])

    init(capabilities: [String] = ["PIPELINING", "ENHANCEDSTATUSCODES", "XRCPTFORWARD"]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let port = freeLoopbackPort()
        guard TestSocketAddress.inet(port: port, { bind(fd, $0, $1) }) == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot listen on 127.0.0.1:\(port)"])
        }
        self.port = port
        listener = fd
        let recorded = self.recorded
        let hello = (["250-fake.example.net"] + capabilities.dropLast().map { "250-" + $0 } + ["250 " + (capabilities.last ?? "OK")])
            .joined(separator: "\r\n") + "\r\n"
        Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { break }
                Thread { Self.serve(client, hello: hello, recorded: recorded) }.start()
            }
        }.start()
    }

    /// The command lines received so far, on every connection, in order.
    var lines: [String] { recorded.current }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private static func serve(_ client: Int32, hello: String, recorded: Locked<[String]>) {
        defer { Glibc.close(client) }
        func send(_ text: String) { _ = text.withCString { write(client, $0, strlen($0)) } }
        send("220 fake.example.net ready\r\n")
        var pending: [UInt8] = []
        var inData = false
        var recipients = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(client, &chunk, chunk.count)
            if count <= 0 { return }
            pending += chunk[0..<count]
            while let newline = pending.firstIndex(of: 10) {
                var line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.hasSuffix("\r") { line.removeLast() }
                if inData {
                    if line == "." {
                        inData = false
                        send(String(repeating: "250 2.0.0 stored\r\n", count: max(1, recipients)))
                        recipients = 0
                    }
                    continue
                }
                recorded.withValue { $0.append(line) }
                let verb = line.prefix(4).uppercased()
                switch verb {
                case "LHLO": send(hello)
                case "RCPT":
                    recipients += 1
                    send("250 2.1.5 OK\r\n")
                case "DATA":
                    inData = true
                    send("354 go ahead\r\n")
                case "QUIT":
                    send("221 2.0.0 bye\r\n")
                    return
                default: send("250 2.0.0 OK\r\n")
                }
            }
        }
    }
}
