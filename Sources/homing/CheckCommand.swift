import ArgumentParser
import Foundation
import HomingApp
import HomingServer

/// `homing check`: a health probe that speaks LMTP to the running server.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that the LMTP server answers (greeting, LHLO, QUIT); exit 0 if it does, 1 if not.",
        discussion: """
            Connects to --socket, or --host and --port, or else to the first listener of the \
            configuration (-c), and expects the 220 greeting and a 250 answer to LHLO within \
            --timeout seconds. For monitoring and container health checks.
            """)

    @OptionGroup var options: ConfigOption

    @Option(help: "A unix socket to connect to.")
    var socket: String?

    @Option(help: "A TCP host to connect to (with --port).")
    var host = "127.0.0.1"

    @Option(help: "A TCP port to connect to.")
    var port: Int?

    @Option(help: "Seconds to wait for each answer.")
    var timeout = 10

    func run() async throws {
        let target: LMTPProbe.Target
        if let socket {
            target = .unix(socket)
        } else if let port {
            target = .tcp(host, port)
        } else {
            guard let loaded = CommandRunner.loadConfiguration(options.config) else {
                throw ExitCode(ExitStatus.configError)
            }
            switch LMTPListener.listeners(for: loaded.settings).first {
            case .unix(let path, _, _, _, _)?: target = .unix(path)
            case .inet(let host, let port, _)?: target = .tcp(host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host, port)
            case nil:
                printError("Error: \(options.config) has no LMTP listener to check")
                throw ExitCode(1)
            }
        }
        switch LMTPProbe.run(target, timeout: timeout) {
        case .success(let greeting):
            print("OK: \(target): \(greeting)")
        case .failure(let problem):
            printError("Error: \(target): \(problem)")
            throw ExitCode(1)
        }
    }
}

/// One blocking LMTP exchange: greeting, LHLO, QUIT.
enum LMTPProbe {
    enum Target: CustomStringConvertible {
        case unix(String)
        case tcp(String, Int)

        var description: String {
            switch self {
            case .unix(let path): return "unix:\(path)"
            case .tcp(let host, let port): return "inet:\(host):\(port)"
            }
        }
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ target: Target, timeout: Int) -> Result<String, Problem> {
        let fd: Int32
        switch connect(target) {
        case .success(let descriptor): fd = descriptor
        case .failure(let problem): return .failure(problem)
        }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var reader = LineReader(fd: fd)
        guard let greeting = reader.reply() else { return .failure(Problem(description: "no greeting within \(timeout) s")) }
        guard greeting.hasPrefix("220 ") else { return .failure(Problem(description: "unexpected greeting: \(greeting)")) }
        guard send("LHLO homing-check\r\n", to: fd), let lhlo = reader.reply() else {
            return .failure(Problem(description: "no answer to LHLO within \(timeout) s"))
        }
        guard lhlo.hasPrefix("250 ") else { return .failure(Problem(description: "LHLO refused: \(lhlo)")) }
        _ = send("QUIT\r\n", to: fd)
        return .success(greeting)
    }

    private static func connect(_ target: Target) -> Result<Int32, Problem> {
        switch target {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                return .failure(Problem(description: "socket path too long"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                return .failure(Problem(description: "cannot connect: \(reason)"))
            }
            return .success(fd)
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
                return .failure(Problem(description: "cannot resolve \(host)"))
            }
            defer { freeaddrinfo(list) }
            let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
            if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                return .failure(Problem(description: "cannot connect: \(reason)"))
            }
            return .success(fd)
        }
    }

    private static func send(_ text: String, to fd: Int32) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads CRLF lines; a reply is done at its last line (`250 ` rather than `250-`).
    private struct LineReader {
        let fd: Int32
        var buffer: [UInt8] = []

        mutating func reply() -> String? {
            while true {
                guard let line = line() else { return nil }
                if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return line }
            }
        }

        private mutating func line() -> String? {
            while true {
                if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = buffer[..<end]
                    buffer.removeSubrange(...end)
                    return String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return nil }
                buffer += chunk[..<n]
            }
        }
    }
}
