import Foundation
import Glibc
import HomingTestSupport
import Testing

/// `homing serve` as a system daemon: signals, one instance per base_dir, sockets it must not
/// take, syslog, the journal and systemd's notify protocol.
@Suite("homing serve as a system service", .timeLimit(.minutes(5)))
struct ServiceIntegrationTests {
    @Test("homing --version prints the version and the commit")
    func version() async throws {
        let result = try await HomingBinary.run(["--version"])
        #expect(result.status == 0)
        let line = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^homing \d+\.\d+\.\d+ \(commit (?:[0-9a-f]{12}(?:-modified)?|unknown)\)$"#, options: .regularExpression) != nil, "\(line)")
    }

    @Test("SIGHUP: a new userdb and a new host name serve new sessions; a session in progress finishes on the old configuration")
    func reload() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let before = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await before.command("RCPT TO:<dave@example.net>").first?.hasPrefix("550 5.1.1") == true)
        #expect(try await before.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])

        // A second userdb for example.net, a new host name and a TCP listener on a new port.
        let newPort = freeLoopbackPort()
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "hostname = mx.example.com", with: "hostname = mx2.example.com")
        config += """
            userdb {
              driver = static
              args = uid=\(fixture.uid) gid=\(fixture.gid) home=\(fixture.mailRoot)/%d/%n
            }
            service lmtp {
              inet_listener second {
                address = 127.0.0.1
                port = \(newPort)
              }
            }

            """
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(server.pid, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while !server.log.contains("configuration reloaded") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.log.contains("SIGHUP received - reloading configuration"), "\(server.log)")
        #expect(server.log.contains("configuration reloaded"), "\(server.log)")

        // The session in progress is not dropped: it delivers, on the old configuration.
        #expect(try await before.command("DATA") == ["354 OK"])
        try await before.send("Subject: during reload\r\n\r\nx\r\n.\r\n")
        #expect(try await before.readReply().first?.hasPrefix("250 2.0.0 <alice@example.com>") == true)
        let stored = fixture.files(fixture.maildir("alice"))
        try #require(stored.count == 1)
        let text = try String(contentsOfFile: fixture.maildir("alice") + "/new/" + stored[0], encoding: .utf8)
        #expect(text.contains("by mx.example.com with LMTP"))

        // New sessions: the new host name, the new userdb, the new listener.
        let after = try await LMTPTestClient.connect(unixPath: fixture.socketPath)
        #expect(try await after.readReply() == ["220 mx2.example.com Homing ready."])
        _ = try await after.command("LHLO x")
        _ = try await after.command("MAIL FROM:<a@b>")
        #expect(try await after.command("RCPT TO:<dave@example.net>") == ["250 2.1.5 OK"])
        let tcp = try await LMTPTestClient.connect(port: newPort)
        #expect(try await tcp.readReply() == ["220 mx2.example.com Homing ready."])
    }

    @Test("SIGHUP with a broken configuration: the error is logged and the running configuration keeps serving")
    func brokenReload() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let good = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try (good + "\nlmtp_save_to_detail_mailbox = maybe\n").write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        kill(server.pid, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while !server.log.contains("reload failed") && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(server.log.contains("reload failed, the running configuration stays in force"), "\(server.log)")
        #expect(server.log.contains("lmtp_save_to_detail_mailbox: invalid boolean value 'maybe'"), "\(server.log)")
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(server.exited() == nil)
    }

    @Test("SIGUSR1 reopens a log file that logrotate renamed")
    func reopenLog() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let logFile = fixture.dir.file("homing-file.log")
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "log_path = /dev/stderr", with: "log_path = \(logFile)")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        try FileManager.default.moveItem(atPath: logFile, toPath: logFile + ".1")
        kill(server.pid, SIGUSR1)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: logFile) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        _ = try await client.command("RCPT TO:<nosuch@example.com>")
        while !((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("User doesn't exist") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let rotated = try String(contentsOfFile: logFile + ".1", encoding: .utf8)
        let fresh = try String(contentsOfFile: logFile, encoding: .utf8)
        #expect(rotated.contains("Homing started"))
        #expect(fresh.contains("SIGUSR1: log file reopened"))
        #expect(fresh.contains("User doesn't exist: nosuch@example.com"))
        #expect(!rotated.contains("User doesn't exist"))
    }

    @Test("a second instance on the same base_dir refuses to start and leaves the first one serving")
    func secondInstance() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let second = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(second.status == 89)
        #expect(
            second.standardError.contains(
                "Homing is already running with PID \(server.pid) (read from \(fixture.dir.file("run/homing.pid")))"),
            "\(second.standardError)")
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(server.exited() == nil)
        #expect(await server.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.dir.file("run/homing.pid")))
    }

    @Test("a socket another process answers on (a live Dovecot LMTP) is never unlinked or taken over")
    func liveSocketKept() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        // Something else listens on the configured socket path.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in fixture.socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(fd, 5) == 0)
        var before = stat()
        stat(fixture.socketPath, &before)
        let serve = try await HomingBinary.run(["serve", "-c", fixture.configPath])
        #expect(serve.status == 78)
        #expect(serve.standardError.contains("another process answers on \(fixture.socketPath)"), "\(serve.standardError)")
        var after = stat()
        #expect(stat(fixture.socketPath, &after) == 0 && after.st_ino == before.st_ino)
        // The other process still gets its connections.
        #expect((try? await LMTPTestClient.connect(unixPath: fixture.socketPath)) != nil)
    }

    @Test("mode = 0 switches a unix listener off, the built-in one included")
    func listenerSwitchedOff() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "    mode = 0600", with: "    mode = 0")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let server = try await HomingServerProcess(
            config: fixture.configPath, logPath: fixture.dir.file("homing.log"), waitForPort: fixture.port)
        defer { Task { await server.stop() } }
        #expect(!FileManager.default.fileExists(atPath: fixture.socketPath))
        let log = await server.waitForLog {
            $0.hasSuffix("listening on inet:127.0.0.1:\(fixture.port)") || $0.contains("listening on inet:127.0.0.1:\(fixture.port) ")
        }
        #expect(log.contains("listening on inet:127.0.0.1:\(fixture.port)\n") || log.contains("listening on inet:127.0.0.1:\(fixture.port) "), "\(log)")
    }

    @Test("log_path unset logs to syslog (facility mail), with Dovecot's line layout and the start-up version")
    func syslog() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "log_path = /dev/stderr\n", with: "")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let syslog = try DatagramCollector(path: fixture.dir.file("syslog.sock"))
        defer { syslog.close() }
        let server = try await fixture.startServer(environment: ["HOMING_SYSLOG_SOCKET": syslog.path])
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        _ = try await client.command("RCPT TO:<nosuch@example.com>")
        let started = await syslog.wait { $0.contains("starting up") }
        // <22> is facility mail (2) with severity info (6).
        #expect(started?.hasPrefix("<22>") == true, "\(syslog.messages)")
        #expect(started?.contains("homing[\(server.pid)]: lmtp: homing ") == true, "\(syslog.messages)")
        let refused = await syslog.wait { $0.contains("User doesn't exist") }
        #expect(refused?.contains("]: lmtp(nosuch@example.com)<") == true, "\(syslog.messages)")
        #expect(refused?.contains(": User doesn't exist: nosuch@example.com") == true)
        #expect(!(refused ?? "").contains("Info:"))
    }

    @Test("under systemd: the journal gets USER, SESSION and MSGID fields; READY, RELOADING and STOPPING are notified")
    func systemd() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        var config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "log_path = /dev/stderr\n", with: "")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let journal = try DatagramCollector(path: fixture.dir.file("journal.sock"))
        let notify = try DatagramCollector(path: fixture.dir.file("notify.sock"))
        defer {
            journal.close()
            notify.close()
        }
        let server = try await fixture.startServer(environment: [
            "HOMING_JOURNAL_SOCKET": journal.path, "JOURNAL_STREAM": "8:1234", "NOTIFY_SOCKET": notify.path,
        ])
        #expect(await notify.wait { $0.contains("READY=1") } != nil)
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Message-ID: <j1@example.org>\r\n\r\nx\r\n.\r\n")
        let saved = try await client.readReply()
        let entry = await journal.wait { $0.contains("saved mail to INBOX") }
        #expect(entry?.contains("\nUSER=alice@example.com\n") == true, "\(journal.messages)")
        #expect(entry?.contains("\nSESSION=\(replyID(saved.first ?? "") ?? "?")\n") == true, "\(entry ?? "")")
        #expect(entry?.contains("\nMSGID=<j1@example.org>\n") == true)
        #expect(entry?.contains("\nPRIORITY=6\n") == true)
        #expect(entry?.hasPrefix("MESSAGE=lmtp(alice@example.com)<") == true)
        kill(server.pid, SIGHUP)
        #expect(await notify.wait { $0.contains("RELOADING=1") } != nil)
        #expect(await server.stop() == 0)
        #expect(await notify.wait { $0.contains("STOPPING=1") } != nil)
    }
}

@Suite("Metrics and health", .timeLimit(.minutes(3)))
struct MetricsIntegrationTests {
    /// `GET path` over plain HTTP/1.1 on 127.0.0.1:`port`: the status line and the body.
    static func get(_ path: String, port: Int) async throws -> (status: String, body: String) {
        let client = try await LMTPTestClient.connect(port: port)
        try await client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let text = try await client.readAll()
        let status = text.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }

    @Test("service stats { inet_listener } serves /metrics: deliveries, recipients, lookups and sessions counted")
    func metricsEndpoint() async throws {
        let metricsPort = freeLoopbackPort()
        let fixture = try IntegrationFixture(extraSettings: """
            service stats {
              inet_listener http {
                address = 127.0.0.1
                port = \(metricsPort)
              }
            }
            """)
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        // The metrics listener is bound just after the LMTP ones.
        await server.waitForLog { $0.contains("metrics at http://127.0.0.1:\(metricsPort)/metrics") }
        for _ in 0..<2 {
            let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "a@b")
            #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
            _ = try await client.command("RCPT TO:<nosuch@example.com>")
            #expect(try await client.command("DATA") == ["354 OK"])
            try await client.send("Subject: m\r\n\r\nx\r\n.\r\n")
            _ = try await client.readReply()
            _ = try await client.command("QUIT")
        }
        var status = ""
        var body = ""
        do {
            // The session gauge goes down just after QUIT is answered: read until it has.
            let deadline = ContinuousClock.now + .seconds(20)
            repeat {
                (status, body) = try await Self.get("/metrics", port: metricsPort)
                if body.contains("homing_lmtp_sessions 0") { break }
                try await Task.sleep(for: .milliseconds(100))
            } while ContinuousClock.now < deadline
        } catch {
            // Said with the server's log: a one-off of this kind in CI was not reproducible.
            Issue.record("GET /metrics on port \(metricsPort) failed: \(error); the server's log:\n\(server.log)")
            return
        }
        #expect(status == "HTTP/1.1 200 OK", "\(body)")
        #expect(body.contains(#"homing_deliveries_total{result="stored",reason=""} 2"#), "\(body)")
        #expect(body.contains(#"homing_recipients_total{result="accepted",reason=""} 2"#))
        #expect(body.contains(#"homing_recipients_total{result="refused",reason="no_such_user"} 2"#), "\(body)")
        #expect(body.contains(#"homing_userdb_lookups_total{driver="passwd-file",result="found"} 2"#))
        #expect(body.contains(#"homing_userdb_lookups_total{driver="passwd-file",result="not_found"} 2"#))
        // The start-up probes connect too: at least the two sessions.
        let connections = body.split(separator: "\n").first { $0.hasPrefix("homing_lmtp_connections_total ") }
            .flatMap { Int($0.split(separator: " ").last ?? "") }
        #expect((connections ?? 0) >= 2, "\(body)")
        #expect(body.contains("homing_lmtp_sessions 0"), "\(body)")
        #expect(body.contains("homing_delivery_duration_seconds_bucket"))
        #expect(body.contains("homing_delivered_bytes_total "))
        let missing = try await Self.get("/nothing", port: metricsPort)
        #expect(missing.status == "HTTP/1.1 404 Not Found")
    }

    @Test("homing check exits 0 when the server answers and 1 when it does not")
    func healthCheck() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let server = try await fixture.startServer()
        let ok = try await HomingBinary.run(["check", "-c", fixture.configPath])
        #expect(ok.status == 0, "\(ok.standardError)")
        #expect(ok.standardOutput.hasPrefix("OK: unix:\(fixture.socketPath): 220 mx.example.com Homing ready."))
        let tcp = try await HomingBinary.run(["check", "--port", String(fixture.port)])
        #expect(tcp.status == 0, "\(tcp.standardError)")
        await server.stop()
        let down = try await HomingBinary.run(["check", "-c", fixture.configPath])
        #expect(down.status == 1)
        #expect(down.standardError.contains("Error: unix:\(fixture.socketPath): cannot connect"), "\(down.standardError)")
    }
}
