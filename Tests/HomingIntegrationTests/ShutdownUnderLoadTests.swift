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
            let storm = ConnectionStorm(port: fixture.port, unixPath: fixture.socketPath, threadsPerListener: 3)
            // Well into the storm before the signal, so accepts are in flight when listeners close.
            let started = Date()
            while storm.connections < 300 && Date().timeIntervalSince(started) < 60 {
                try await Task.sleep(for: .milliseconds(10))
            }
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
            let storm = ConnectionStorm(port: policyPort, unixPath: fixture.socketPath, threadsPerListener: 3)
            let started = Date()
            while storm.connections < 300 && Date().timeIntervalSince(started) < 60 {
                try await Task.sleep(for: .milliseconds(10))
            }
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
            let storm = ConnectionStorm(port: fixture.port, unixPath: fixture.socketPath, threadsPerListener: 3)
            let started = Date()
            while storm.connections < 300 && Date().timeIntervalSince(started) < 60 {
                try await Task.sleep(for: .milliseconds(10))
            }
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

    /// Stops every thread and waits for them.
    func stop() {
        running.store(false, ordering: .relaxed)
        while finished.load(ordering: .relaxed) < threadCount { usleep(10_000) }
    }

    private static func connectTCP(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            usleep(1000)
            return -1
        }
        return fd
    }

    private static func connectUnix(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            close(fd)
            usleep(1000)
            return -1
        }
        return fd
    }
}
