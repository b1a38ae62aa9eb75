import Foundation
import Glibc
import HomingServer

/// `homing quota-status -p postfix`: the quota-status policy service on standard input and
/// output, one request after another until end of file (for Postfix's `spawn(8)`, inetd, or
/// trying it by hand: `printf 'recipient=alice@example.com\nsize=1000\n\n' | homing
/// quota-status -p postfix`). `homing serve` answers the same on the listeners of a
/// `service quota-status { }` block.
public enum QuotaStatusRunner {
    /// Serves standard input; returns the exit status.
    public static func run(configuration path: String) async -> Int32 {
        await CommandRunner.withRuntime(configuration: path, threads: 4) { runtime in
            let service = QuotaStatusService(runtime: runtime)
            var framer = PolicyRequestFramer()
            while true {
                let chunk: [UInt8]
                do {
                    chunk = try await runOnThread { try readStandardInput() }
                } catch {
                    printError("Error: reading standard input: \(error)")
                    return ExitStatus.temporaryFailure
                }
                if chunk.isEmpty { return 0 }
                let requests: [PolicyRequest]
                do {
                    requests = try framer.feed(chunk)
                } catch {
                    printError("Error: \(error)")
                    return 65
                }
                for request in requests {
                    let reply = "action=\(await service.answer(request))\n\n"
                    guard writeStandardOutput(Array(reply.utf8)) else { return ExitStatus.temporaryFailure }
                }
            }
        }
    }

    private static func readStandardInput() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count >= 0 { return Array(buffer[0..<count]) }
            if errno != EINTR { throw StandardStreamError(code: errno) }
        }
    }

    private static func writeStandardOutput(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// Runs blocking work on a new thread (standard input may block for as long as the client waits).
    private static func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) } }
            thread.start()
        }
    }
}

/// A read or write on a standard stream failed.
struct StandardStreamError: Error, CustomStringConvertible {
    var code: Int32
    var description: String { String(cString: strerror(code)) }
}
