import Foundation
import Glibc
import HomingTestSupport
import Synchronization
import Testing

/// Shutdown while connections keep arriving: a connection accepted as the listener closes
/// must still be answered and closed, and the server must exit cleanly, not crash.
@Suite("homing serve stopping under a connection storm", .timeLimit(.minutes(5)))
struct ShutdownUnderLoadTests {
    @Test("SIGTERM while clients connect in tight loops (TCP and unix): exit status 0, no crash, every round")
    func terminateDuringStorm() async throws {
        for round in 1...6 {
            let fixture = try IntegrationFixture()
            defer { fixture.dir.remove() }
            let server = try await fixture.startServer()
            let storm = try await ConnectionStorm.started(port: fixture.port, unixPath: fixture.socketPath)
            let status = await server.stop()
            storm.stop()
            let log = server.log
            #expect(status == 0, "round \(round): homing serve exited with \(status.map(String.init) ?? "nothing"): \(log.suffix(3000))")
            #expect(!log.contains("Fatal error"), "round \(round): \(log.suffix(3000))")
            #expect(log.contains("Homing stopped"), "round \(round): \(log.suffix(3000))")
        }
    }

    @Test("SIGTERM while clients connect to the quota-status policy listener: exit status 0, no crash")
    func terminatePolicyDuringStorm() async throws {
        for round in 1...4 {
            let policyPort = freeLoopbackPort()
            let fixture = try IntegrationFixture(
                extraSettings: """
                    service quota-status {
                      executable = quota-status -p postfix
                      inet_listener {
                        address = 127.0.0.1
                        port = \(policyPort)
                      }
                    }
                    """)
            defer { fixture.dir.remove() }
            let server = try await fixture.startServer()
            let storm = try await ConnectionStorm.started(port: policyPort, unixPath: fixture.socketPath)
            let status = await server.stop()
            storm.stop()
            #expect(status == 0, "round \(round): \(server.log.suffix(3000))")
            #expect(!server.log.contains("Fatal error"), "round \(round): \(server.log.suffix(3000))")
        }
    }

    @Test("SIGHUP removing the TCP listener while clients connect to it: the server keeps serving the unix socket")
    func reloadRemovingListenerDuringStorm() async throws {
        for round in 1...4 {
            let fixture = try IntegrationFixture()
            defer { fixture.dir.remove() }
            let server = try await fixture.startServer()
            let storm = try await ConnectionStorm.started(port: fixture.port, unixPath: fixture.socketPath)
            var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            config = config.replacingOccurrences(of: "port = \(fixture.port)", with: "port = 0")
            try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
            kill(server.pid, SIGHUP)
            let deadline = Date().addingTimeInterval(30)
            while !server.log.contains("configuration reloaded") && server.exited() == nil && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            // Connections keep arriving on the unix socket for a moment after the reload.
            let afterReload = storm.connections
            while storm.connections < afterReload + 100 && server.exited() == nil && Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(server.exited() == nil, "round \(round): \(server.log.suffix(3000))")
            #expect(server.log.contains("configuration reloaded"), "round \(round): \(server.log.suffix(3000))")
            let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
            #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
            storm.stop()
            #expect(await server.stop() == 0, "round \(round): \(server.log.suffix(3000))")
        }
    }
}

/// Threads that connect, read what arrives for a moment and disconnect, over and over, until
/// stopped.
final class ConnectionStorm: Sendable {
    private let running = Atomic<Bool>(true)
    private let made = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let threadCount: Int

    init(port: Int, unixPath: String, threadsPerListener: Int) {
        threadCount = threadsPerListener * 2
        for index in 0..<threadCount {
            let useUnix = index % 2 == 1
            let thread = Thread { [self] in
                while running.load(ordering: .relaxed) {
                    let fd = useUnix ? Self.connectUnix(unixPath) : Self.connectTCP(port)
                    guard fd >= 0 else { continue }
                    made.add(1, ordering: .relaxed)
                    // Half the connections read the greeting (or a 421) before closing.
                    if index % 4 < 2 {
                        var buffer = [UInt8](repeating: 0, count: 512)
                        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
                        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                        _ = read(fd, &buffer, buffer.count)
                    }
                    close(fd)
                }
                finished.add(1, ordering: .relaxed)
            }
            thread.start()
        }
    }

    /// Connections made so far.
    var connections: Int { made.load(ordering: .relaxed) }

    /// A storm of three threads per listener, once it has made 300 connections (or after a
    /// minute): well under way, so that accepts are in flight when a listener closes.
    static func started(port: Int, unixPath: String) async throws -> ConnectionStorm {
        let storm = ConnectionStorm(port: port, unixPath: unixPath, threadsPerListener: 3)
        let started = Date()
        while storm.connections < 300 && Date().timeIntervalSince(started) < 60 {
            try await Task.sleep(for: .milliseconds(10))
        }
        return storm
    }

    /// Stops every thread and waits for them.
    func stop() {
        running.store(false, ordering: .relaxed)
        while finished.load(ordering: .relaxed) < threadCount { usleep(10_000) }
    }

    private static func connectTCP(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        return connected(fd, TestSocketAddress.inet(port: port) { connect(fd, $0, $1) })
    }

    private static func connectUnix(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        return connected(fd, TestSocketAddress.unix(path) { connect(fd, $0, $1) } ?? -1)
    }

    /// `fd` once `connect` returned 0; else closed, after a pause (the listener is gone), and -1.
    private static func connected(_ fd: Int32, _ result: Int32) -> Int32 {
        guard result == 0 else {
            close(fd)
            usleep(1000)
            return -1
        }
        return fd
    }
}
