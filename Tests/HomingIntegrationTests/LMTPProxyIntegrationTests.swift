import Foundation
import HomingTestSupport
import Testing

/// A front node with `lmtp_proxy = yes` and backend nodes, each a real `homing serve` with its
/// own base_dir, listeners and mail root, on loopback.
struct ProxyCluster {
    let front: IntegrationFixture
    let backends: [IntegrationFixture]
    /// A port nothing listens on.
    let deadPort: Int

    /// - Parameter passdbLines: passwd-file lines of the front's passdb; `FRONT`, `B0`, `B1`
    ///   and `DEAD` are replaced by the ports.
    init(backends count: Int = 2, passdbLines: [String], frontSettings: String = "") throws {
        var backends: [IntegrationFixture] = []
        for _ in 0..<count { backends.append(try IntegrationFixture()) }
        self.backends = backends
        deadPort = freeLoopbackPort()
        let front = try IntegrationFixture(
            extraSettings: "lmtp_proxy = yes\n" + frontSettings,
            userdb: """
                passdb {
                  driver = passwd-file
                  args = PASSDB_FILE
                }
                userdb {
                  driver = passwd-file
                  args = USERS_FILE
                }
                """)
        self.front = front
        var text = passdbLines.joined(separator: "\n") + "\n"
        text = text.replacingOccurrences(of: "FRONT", with: String(front.port))
        text = text.replacingOccurrences(of: "DEAD", with: String(deadPort))
        for (index, backend) in backends.enumerated() {
            text = text.replacingOccurrences(of: "B\(index)", with: String(backend.port))
        }
        try front.dir.write("passdb", text)
        let config = try String(contentsOfFile: front.configPath, encoding: .utf8)
            .replacingOccurrences(of: "PASSDB_FILE", with: front.dir.file("passdb"))
            .replacingOccurrences(of: "USERS_FILE", with: front.dir.file("users"))
        try front.dir.write("homing.conf", config)
    }

    func remove() {
        front.dir.remove()
        for backend in backends { backend.dir.remove() }
    }

    func start() async throws -> [HomingServerProcess] {
        var servers: [HomingServerProcess] = []
        for backend in backends { servers.append(try await backend.startServer()) }
        servers.append(try await front.startServer())
        return servers
    }
}

func stopAll(_ servers: [HomingServerProcess]) async {
    for server in servers { _ = await server.stop() }
}

@Suite("lmtp_proxy: a front node relaying to backend nodes", .serialized)
struct LMTPProxyIntegrationTests {
    static let passdb = [
        "alice@example.com:{PLAIN}x::::::proxy_maybe host=127.0.0.1 port=FRONT",
        "bob@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=B0",
        "carol@example.org:{PLAIN}x::::::proxy host=127.0.0.1 port=B1 proxy_timeout=10",
        "dead@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=DEAD proxy_timeout=5",
        "loop@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=FRONT",
        "robert@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=B0 destuser=bob@example.com",
    ]

    @Test("a transaction split over a local user and two backends gets one reply per recipient, in RCPT order")
    func splitTransaction() async throws {
        let cluster = try ProxyCluster(passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(lhlo: "postfix.example.net", from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<carol@example.org>") == ["250 2.1.5 OK"])
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(
            try await client.command("RCPT TO:<nosuch@example.com>")
                == ["550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"])
        #expect(try await client.command("RCPT TO:<bob+lists@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: split\r\n\r\n..leading dot\r\nbody\r\n.\r\n")
        let replies = try await client.readReplies(3)
        #expect(replies.count == 3, "\(replies)")
        let expectedOrder = ["<carol@example.org>", "<alice@example.com>", "<bob+lists@example.com>"]
        for (reply, path) in zip(replies, expectedOrder) {
            #expect(reply.hasPrefix("250 2.0.0 \(path) ") && reply.hasSuffix(" Saved"), "\(replies)")
        }
        // The reply ids are the front's: RCPT 1, 2 and 4 of its transaction.
        let ids = replies.compactMap(replyID)
        #expect(ids.count == 3 && !ids[0].contains(":R") && ids[1].hasSuffix(":R2") && ids[2].hasSuffix(":R4"), "\(ids)")

        let carol = cluster.backends[1].maildir("carol", domain: "example.org")
        let bob = cluster.backends[0].maildir("bob")
        #expect(cluster.front.files(cluster.front.maildir("alice")).count == 1)
        #expect(cluster.backends[1].files(carol).count == 1)
        #expect(cluster.backends[0].files(bob).count == 1)
        #expect(cluster.front.files(cluster.front.maildir("bob")).isEmpty)
        #expect(cluster.backends[0].files(cluster.backends[0].maildir("alice")).isEmpty)
        let stored = try String(contentsOfFile: bob + "/new/" + cluster.backends[0].files(bob)[0], encoding: .utf8)
        #expect(stored.contains("\n.leading dot\nbody\n"), "dot-stuffing must survive the relay: \(stored)")
        #expect(stored.contains("Delivered-To: bob+lists@example.com"), "\(stored)")
        // The front's own Received (three recipients: no `for`) under the backend's.
        #expect(stored.components(separatedBy: "\nReceived: ").count == 3, "\(stored)")
        #expect(
            stored.contains("Received: from postfix.example.net ([127.0.0.1])\n\tby mx.example.com with LMTP\n\tid "),
            "\(stored)")
        #expect(stored.contains("(envelope-from <sender@example.org>); "), "\(stored)")
        _ = try await client.command("QUIT")
    }

    @Test("an unreachable backend fails only its own recipients with 451 4.4.0; the others are delivered")
    func unreachableBackend() async throws {
        let cluster = try ProxyCluster(passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        let dead = try await client.command("RCPT TO:<dead@example.com>")
        #expect(dead.count == 1 && dead[0].hasPrefix("451 4.4.0 Proxy failed (connect, session="), "\(dead)")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: x\r\n\r\nx\r\n.\r\n")
        let replies = try await client.readReplies(2)
        #expect(replies.allSatisfy { $0.hasPrefix("250 2.0.0 ") }, "\(replies)")
        #expect(cluster.backends[0].files(cluster.backends[0].maildir("bob")).count == 1)
        // The front keeps serving.
        #expect(try await client.command("NOOP") == ["250 2.0.0 OK"])
    }

    @Test("a backend that never answers times out after proxy_timeout, one that answers garbage is a bad reply: 451 4.4.0 each")
    func silentAndBrokenBackends() async throws {
        let silent = try MisbehavingLMTPServer(banner: nil)
        let garbage = try MisbehavingLMTPServer(banner: "hello there\r\n")
        defer {
            silent.close()
            garbage.close()
        }
        let cluster = try ProxyCluster(
            backends: 1,
            passdbLines: Self.passdb + [
                "silent@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=\(silent.port) proxy_timeout=2",
                "garbage@example.com:{PLAIN}x::::::proxy host=127.0.0.1 port=\(garbage.port) proxy_timeout=2",
            ])
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        let started = Date()
        let timedOut = try await client.command("RCPT TO:<silent@example.com>")
        #expect(timedOut.count == 1 && timedOut[0].hasPrefix("451 4.4.0 Proxy failed (timed out, session="), "\(timedOut)")
        #expect(Date().timeIntervalSince(started) >= 1.5)
        let bad = try await client.command("RCPT TO:<garbage@example.com>")
        #expect(bad.count == 1 && bad[0].hasPrefix("451 4.4.0 Proxy failed (bad reply, session="), "\(bad)")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: x\r\n\r\nx\r\n.\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com> ") == true, "\(reply)")
    }

    @Test("a backend stopped between RCPT and the end of data fails its recipients with 451 4.4.0")
    func backendLostDuringData() async throws {
        let cluster = try ProxyCluster(passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<carol@example.org>") == ["250 2.1.5 OK"])
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        kill(servers[1].pid, SIGKILL)
        try await client.send("Subject: x\r\n\r\nx\r\n.\r\n")
        let replies: [String]
        do {
            replies = try await client.readReplies(2)
        } catch {
            Issue.record("front: \(error): \(servers[2].log)")
            return
        }
        #expect(replies[0].hasPrefix("451 4.4.0 Proxy failed ("), "\(replies)")
        #expect(replies[1].hasPrefix("250 2.0.0 <bob@example.com> "), "\(replies)")
    }

    @Test("BDAT chunks from the client are relayed as DATA, pipelined commands answered in order")
    func bdatRelayedAsData() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        _ = try await client.readReply()
        let first = "Subject: chunks\r\n\r\n.dot at line start\r\n"
        let second = "last line without end"
        try await client.send(
            "LHLO x\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<alice@example.com>\r\n"
                + "BDAT \(first.utf8.count)\r\n\(first)BDAT \(second.utf8.count) LAST\r\n\(second)")
        let lines = try await client.readReplies(7)
        #expect(
            lines.suffix(6).prefix(4) == ["250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "250 2.0.0 Added \(first.utf8.count) octets"],
            "\(lines)")
        #expect(lines.suffix(2).allSatisfy { $0.hasPrefix("250 2.0.0 <") && $0.hasSuffix(" Saved") }, "\(lines)")
        let bob = cluster.backends[0].maildir("bob")
        let names = cluster.backends[0].files(bob)
        try #require(names.count == 1)
        let stored = try String(contentsOfFile: bob + "/new/" + names[0], encoding: .utf8)
        #expect(stored.hasSuffix("\n.dot at line start\nlast line without end\n"), "\(stored)")
    }

    @Test("a client that goes away inside DATA leaves nothing stored on the backend, and the next transaction is relayed")
    func clientGoneInsideData() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        do {
            // The client is closed when it goes out of scope.
            let first = try await LMTPTestClient.connect(port: cluster.front.port)
            try await first.open(from: "sender@example.org")
            #expect(try await first.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
            #expect(try await first.command("DATA") == ["354 OK"])
            try await first.send("Subject: unfinished\r\n\r\nRSET\r\npart of it\r\n")
        }
        _ = await servers[1].waitForLog { $0.contains("unfinished DATA command") }
        let started = Date()
        let second = try await LMTPTestClient.connect(port: cluster.front.port)
        try await second.open(from: "sender@example.org")
        #expect(try await second.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await second.command("DATA") == ["354 OK"])
        try await second.send("Subject: finished\r\n\r\nx\r\n.\r\n")
        let reply = try await second.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com> ") == true, "\(reply)")
        #expect(Date().timeIntervalSince(started) < 30)
        let bob = cluster.backends[0].maildir("bob")
        let names = cluster.backends[0].files(bob)
        try #require(names.count == 1)
        let stored = try String(contentsOfFile: bob + "/new/" + names[0], encoding: .utf8)
        #expect(stored.contains("Subject: finished"))
    }

    @Test("proxy to this node itself is refused as a loop with 554 5.4.6")
    func selfLoop() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        #expect(
            try await client.command("RCPT TO:<loop@example.com>")
                == ["554 5.4.6 <loop@example.com> Proxying loops to itself"])
    }

    @Test("destuser changes the address sent on and keeps the detail")
    func destuser() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<robert+news@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: x\r\n\r\nx\r\n.\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <robert+news@example.com> ") == true, "\(reply)")
        let bob = cluster.backends[0].maildir("bob")
        let names = cluster.backends[0].files(bob)
        try #require(names.count == 1)
        let stored = try String(contentsOfFile: bob + "/new/" + names[0], encoding: .utf8)
        #expect(stored.contains("Delivered-To: bob+news@example.com"), "\(stored)")
    }

    @Test("the connection to a backend is reset and reused for the next transaction")
    func connectionReuse() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        for round in 0..<2 {
            // Two separate client connections: the reuse is the front's pool, not the client's.
            let client = try await LMTPTestClient.connect(port: cluster.front.port)
            try await client.open(from: "sender@example.org")
            #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
            #expect(try await client.command("DATA") == ["354 OK"])
            try await client.send("Subject: round \(round)\r\n\r\nx\r\n.\r\n")
            let reply = try await client.readReply()
            #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com> ") == true, "\(reply)")
            _ = try await client.command("QUIT")
        }
        let bob = cluster.backends[0].maildir("bob")
        let names = cluster.backends[0].files(bob)
        try #require(names.count == 2)
        // The backend's Received header names its session: one session served both.
        let ids = try names.map { name -> String in
            let text = try String(contentsOfFile: bob + "/new/" + name, encoding: .utf8)
            let line = text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("id ") }
            return line.map { String($0.trimmingCharacters(in: .whitespaces).dropFirst(3)) } ?? ""
        }
        #expect(ids[0] == ids[1] && !ids[0].isEmpty, "\(ids)")
    }

    @Test("a backend restarted between transactions is connected to again, not answered from a dead pooled connection")
    func backendRestart() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        var servers = try await cluster.start()
        defer { Task { [servers] in await stopAll(servers) } }
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        for round in 0..<2 {
            if round == 1 {
                _ = await servers[0].stop()
                servers[0] = try await cluster.backends[0].startServer()
                _ = try await client.command("MAIL FROM:<sender@example.org>")
            }
            #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"], "round \(round)")
            #expect(try await client.command("DATA") == ["354 OK"])
            try await client.send("Subject: round \(round)\r\n\r\nx\r\n.\r\n")
            let reply = try await client.readReply()
            #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com> ") == true, "\(reply) \(servers[1].log)")
        }
        #expect(cluster.backends[0].files(cluster.backends[0].maildir("bob")).count == 2)
    }

    @Test("a 20 MB message is relayed as it arrives, the front's memory growing far less than the message")
    func largeMessage() async throws {
        let cluster = try ProxyCluster(backends: 1, passdbLines: Self.passdb)
        defer { cluster.remove() }
        let servers = try await cluster.start()
        defer { Task { await stopAll(servers) } }
        let front = servers[1]
        let client = try await LMTPTestClient.connect(port: cluster.front.port)
        try await client.open(from: "sender@example.org")
        // Warm up the relay path so pools and buffers exist before measuring.
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: warm-up\r\n\r\nx\r\n.\r\n")
        _ = try await client.readReply()
        let before = try #require(front.memoryKB("VmRSS"))
        _ = try await client.command("MAIL FROM:<sender@example.org>")
        #expect(try await client.command("RCPT TO:<bob@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: big\r\n\r\n")
        let line = Array((String(repeating: "0123456789", count: 99) + "abcdefgh\r\n").utf8)
        let lines = 20 * 1024
        try await client.sendRepeated(Array(repeating: line, count: 64).flatMap { $0 }, times: lines / 64)
        try await client.send(".\r\n")
        let reply = try await client.readReply()
        #expect(reply.first?.hasPrefix("250 2.0.0 <bob@example.com>") == true, "\(reply)")
        let peak = try #require(front.memoryKB("VmHWM"))
        if ProcessInfo.processInfo.environment["HOMING_SANITIZER"] == nil {
            #expect(peak - before < 8 * 1024, "front memory grew by \(peak - before) kB for a 20 MB message")
        }
        let bob = cluster.backends[0].maildir("bob")
        let names = cluster.backends[0].files(bob)
        try #require(names.count == 2)
        let sizes = try names.map { try FileManager.default.attributesOfItem(atPath: bob + "/new/" + $0)[.size] as? Int ?? 0 }
        #expect(sizes.max() ?? 0 > lines * 999)
    }
}
