#if canImport(Glibc)
    import Glibc
#endif

/// How a spawned program ended.
enum SendmailExit {
    case exited(Int32)
    case signalled(Int32)
    case timedOut
    case failed(SubmissionError)
}

/// One sendmail run: feeds the message, collects the output, reaps the child.
struct SendmailRun: ~Copyable {
    let process: SpawnedProcess
    let deadline: ContinuousClock.Instant
    /// Captured standard output and error (bounded).
    var output: [UInt8] = []
    /// Set when the child stopped reading before the end of the message.
    var writeError: String?
    static let outputLimit = 4_096

    init(process: consuming SpawnedProcess, deadline: ContinuousClock.Instant) {
        self.process = process
        self.deadline = deadline
    }

    mutating func run(reader: inout OutgoingMessageReader) -> SendmailExit {
        var encoder = SubmissionLineEncoder(mode: .sendmail)
        var pending: [UInt8] = []
        var pendingOffset = 0
        var inputOpen = true
        var outputOpen = true
        var readerDone = false
        var failure: SubmissionError?
        defer {
            if inputOpen { _ = close(process.input) }
            if outputOpen { _ = close(process.output) }
        }
        while inputOpen || outputOpen {
            // Refill what is to be written.
            if inputOpen && pendingOffset == pending.count {
                pending = []
                pendingOffset = 0
                if !readerDone {
                    do {
                        if let chunk = try reader.next() {
                            pending = encoder.encode(chunk)
                        } else {
                            pending = encoder.finish()
                            readerDone = true
                        }
                    } catch {
                        failure = error
                        readerDone = true
                    }
                }
                if readerDone && pending.isEmpty {
                    _ = close(process.input)
                    inputOpen = false
                    if failure != nil {
                        kill(process.pid, SIGKILL)
                    }
                }
                if inputOpen && pending.isEmpty { continue }
            }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return killAndReap() }
            var fds: [pollfd] = []
            if inputOpen { fds.append(pollfd(fd: process.input, events: Int16(POLLOUT), revents: 0)) }
            if outputOpen { fds.append(pollfd(fd: process.output, events: Int16(POLLIN), revents: 0)) }
            let milliseconds = Int32(min(remaining.components.seconds * 1_000 + 1, 60_000))
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 && errno != EINTR { return killAndReap() }
            if ready <= 0 { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == process.input && inputOpen {
                    let sent = pending.withUnsafeBytes {
                        send(process.input, $0.baseAddress.map { $0 + pendingOffset }, pending.count - pendingOffset, Int32(MSG_NOSIGNAL))
                    }
                    if sent >= 0 {
                        pendingOffset += sent
                    } else if errno != EAGAIN && errno != EINTR {
                        writeError = OutgoingMessageReader.describe(errno)
                        _ = close(process.input)
                        inputOpen = false
                    }
                } else if entry.fd == process.output && outputOpen {
                    var buffer = [UInt8](repeating: 0, count: 4_096)
                    let count = buffer.withUnsafeMutableBytes { read(process.output, $0.baseAddress, $0.count) }
                    if count > 0 {
                        let room = max(0, Self.outputLimit - output.count)
                        output += buffer[0..<min(count, room)]
                    } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                        _ = close(process.output)
                        outputOpen = false
                    }
                }
            }
        }
        let status = reap()
        if let failure { return .failed(failure) }
        return status
    }

    private func reap() -> SendmailExit {
        var status: Int32 = 0
        while true {
            let result = waitpid(process.pid, &status, WNOHANG)
            if result == process.pid { break }
            if result < 0 && errno != EINTR {
                return .failed(SubmissionError(temporary: true, "cannot wait for the sendmail process: \(OutgoingMessageReader.describe(errno))"))
            }
            if ContinuousClock.now >= deadline { return killAndReap() }
            usleep(2_000)
        }
        return Self.exit(status)
    }

    private func killAndReap() -> SendmailExit {
        kill(process.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
        return .timedOut
    }

    static func exit(_ status: Int32) -> SendmailExit {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(signal)
    }
}
