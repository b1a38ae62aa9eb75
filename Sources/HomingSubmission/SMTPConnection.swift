#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP connection with line reading and timeouts (SO_RCVTIMEO/SO_SNDTIMEO).
struct SMTPConnection: ~Copyable {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var parser = SMTPReplyParser()
    private let name: String
    /// Longest reply line accepted (RFC 5321 allows 512; be generous).
    static let maxLine = 4_096

    init(host: String, port: Int, timeout: Duration) throws(SubmissionError) {
        name = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host, String(port), &hints, &list)
        guard lookup == 0, let first = list else {
            throw SubmissionError(
                temporary: true, "cannot resolve SMTP server \(host): \(String(cString: gai_strerror(lookup)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let entry = current {
            current = entry.pointee.ai_next
            let fd = socket(entry.pointee.ai_family, entry.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), entry.pointee.ai_protocol)
            if fd < 0 {
                lastError = OutgoingMessageReader.describe(errno)
                continue
            }
            if Self.connect(fd, entry.pointee.ai_addr, entry.pointee.ai_addrlen, timeout: timeout, error: &lastError) {
                var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
                if time.tv_sec == 0 && time.tv_usec == 0 { time.tv_usec = 1 }
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                descriptor = fd
                return
            }
            _ = close(fd)
        }
        throw SubmissionError(temporary: true, "cannot connect to SMTP server \(name): \(lastError)")
    }

    deinit {
        _ = close(descriptor)
    }

    private static func connect(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, timeout: Duration,
        error: inout String
    ) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else {
            error = OutgoingMessageReader.describe(errno)
            return false
        }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var ready: Int32
        repeat { ready = poll(&entry, 1, max(milliseconds, 1)) } while ready < 0 && errno == EINTR
        if ready == 0 {
            error = "connection timed out after \(timeout)"
            return false
        }
        var socketError: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size)
        if ready < 0 || socketError != 0 {
            error = OutgoingMessageReader.describe(ready < 0 ? errno : socketError)
            return false
        }
        return true
    }

    /// Sends one command line (CRLF added).
    mutating func send(_ command: String) throws(SubmissionError) {
        try write(Array((command + "\r\n").utf8))
    }

    /// Writes all of `bytes`.
    mutating func write(_ bytes: [UInt8]) throws(SubmissionError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                let reason = (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out" : OutgoingMessageReader.describe(errno)
                throw SubmissionError(temporary: true, "cannot send to SMTP server \(name): \(reason)")
            }
            offset += sent
        }
    }

    /// Reads one whole reply (all its lines).
    mutating func readReply() throws(SubmissionError) -> SMTPReply {
        while true {
            let line = try readLine()
            if let reply = try parser.feed(line) { return reply }
        }
    }

    private mutating func readLine() throws(SubmissionError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                var end = newline
                if end > 0 && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            if buffer.count > Self.maxLine {
                throw SubmissionError(temporary: true, "SMTP server \(name) sent a reply line over \(Self.maxLine) octets")
            }
            var chunk = [UInt8](repeating: 0, count: 4_096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out waiting for a reply" : OutgoingMessageReader.describe(errno)
                throw SubmissionError(temporary: true, "SMTP server \(name): \(reason)")
            }
            if count == 0 {
                throw SubmissionError(temporary: true, "SMTP server \(name) closed the connection")
            }
            buffer += chunk[0..<count]
        }
    }
}
