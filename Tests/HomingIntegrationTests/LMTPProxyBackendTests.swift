import Foundation
import HomingDelivery
import HomingLMTP
import HomingProxy
import HomingServer
import HomingTestSupport
import HomingUserdb
import NIOCore
import Testing

/// A passdb answering from a table, as `passdb { driver = static }` or a passwd-file would.
struct TablePassdb: PassdbLookup {
    var records: [String: UserdbResult]
    func lookupPassdb(_ request: UserdbRequest) async -> UserdbResult { records[request.user] ?? .notFound }
    func shutdown() async {}
}

/// The proxy backend driven directly (RCPT, data, end of data), in front of real
/// `homing serve` backends.
@Suite("LMTPProxyBackend against homing serve backends", .serialized)
struct LMTPProxyBackendTests {
    private func proxied(_ name: String, port: Int, extra: [UserdbField] = []) -> UserdbResult {
        .found(UserRecord(user: name, fields: [UserdbField("proxy", ""), UserdbField("host", "127.0.0.1"), UserdbField("port", String(port))] + extra))
    }

    private func context(_ id: String = "FRONTSESSIONID0000000A", ttl: Int? = nil) -> LMTPTransactionContext {
        LMTPTransactionContext(
            sessionID: id, transactionID: id, lhloName: "postfix.example.net",
            connection: LMTPConnectionInfo(remoteIP: "127.0.0.9", localIP: "127.0.0.1", remotePort: 4711, localPort: 1, proxyTTL: ttl),
            mailFrom: "sender@example.org", body: nil)
    }

    private func recipient(_ address: String, _ index: Int, _ id: String = "FRONTSESSIONID0000000A") -> LMTPRecipient {
        LMTPRecipient(
            path: address, address: address, originalRecipient: nil, index: index,
            replyID: index == 1 ? id : "\(id):R\(index)")
    }

    @Test("relayed and local recipients of one transaction get their replies in RCPT order")
    func mixed() async throws {
        let backend = try IntegrationFixture()
        defer { backend.dir.remove() }
        let server = try await backend.startServer()
        defer { Task { await server.stop() } }
        let harness = try DeliveryHarness()
        let delivery = try harness.delivery(users: ["alice@example.com": harness.user("alice")])
        let passdb = TablePassdb(records: ["bob@example.com": proxied("bob@example.com", port: backend.port)])
        let pool = ProxyConnectionPool()
        let proxy = LMTPProxyBackend(
            local: LMTPLocalBackend(delivery: delivery), passdb: passdb, pool: pool, logger: harness.logs.logger)
        let transaction = context()
        let bob = recipient("bob@example.com", 1)
        let alice = recipient("alice@example.com", 2)
        var accepted: [LMTPAcceptedRecipient<ProxyRecipient>] = []
        for rcpt in [bob, alice] {
            switch await proxy.verifyRecipient(rcpt, in: transaction) {
            case .accept(let resolved), .acceptReplying(let resolved, _):
                accepted.append(LMTPAcceptedRecipient(command: rcpt, resolved: resolved))
            case .reject(let reply):
                Issue.record("\(rcpt.address) refused: \(reply) \(harness.logs.lines)")
            }
        }
        try #require(accepted.count == 2)
        let sink = try await proxy.makeMessageSink(for: transaction)
        try await sink.write(ByteBuffer(string: "Subject: hi\n\n.dot\n"))
        let outcomes = await proxy.deliver(sink, to: accepted, in: transaction)
        #expect(outcomes.count == 2)
        if case .replied(let reply) = outcomes[0] {
            #expect(reply.wireFormat == "250 2.0.0 <bob@example.com> FRONTSESSIONID0000000A Saved\r\n")
        } else {
            Issue.record("bob: \(outcomes[0]) \(harness.logs.lines)")
        }
        #expect(outcomes[1] == .saved)
        #expect(backend.files(backend.maildir("bob")).count == 1)
        #expect(harness.files(of: "alice").count == 1)
        #expect(proxy.openTransactions == 0)
        #expect(await pool.idleCount(ProxyDestination(host: "127.0.0.1", port: backend.port)) == 1)
        await pool.shutdown()
    }

    @Test("at most maximumPerDestination connections to one destination: a transaction waits for one to come free, and past proxy_timeout gets 451 4.4.0")
    func connectionLimit() async throws {
        let backend = try IntegrationFixture()
        defer { backend.dir.remove() }
        let server = try await backend.startServer()
        defer { Task { await server.stop() } }
        let harness = try DeliveryHarness()
        let delivery = try harness.delivery(users: [:])
        let passdb = TablePassdb(records: [
            "bob@example.com": proxied("bob@example.com", port: backend.port, extra: [UserdbField("proxy_timeout", "60")]),
            "carol@example.org": proxied("carol@example.org", port: backend.port, extra: [UserdbField("proxy_timeout", "1")]),
        ])
        let pool = ProxyConnectionPool(maximumPerDestination: 1)
        let destination = ProxyDestination(host: "127.0.0.1", port: backend.port)
        let proxy = LMTPProxyBackend(
            local: LMTPLocalBackend(delivery: delivery), passdb: passdb, pool: pool, logger: harness.logs.logger)

        // A holds the one connection from its RCPT to the end of its data.
        let first = context("FRONTSESSIONID0000000A")
        let bob = recipient("bob@example.com", 1, "FRONTSESSIONID0000000A")
        guard case .acceptReplying(let bobResolved, _) = await proxy.verifyRecipient(bob, in: first) else {
            Issue.record("bob refused: \(harness.logs.lines)")
            return
        }
        #expect(await pool.openCount(destination) == 1)

        // Meanwhile carol's transaction finds no place within her proxy_timeout of 1 s.
        let third = context("FRONTSESSIONID0000000C")
        let verdict = await proxy.verifyRecipient(recipient("carol@example.org", 1, "FRONTSESSIONID0000000C"), in: third)
        guard case .reject(let refusal) = verdict else {
            Issue.record("carol accepted while the only connection was in use")
            return
        }
        #expect(refusal.code == 451 && refusal.wireFormat.hasPrefix("451 4.4.0 Proxy failed"), "\(refusal)")
        #expect(harness.logs.lines.contains { $0.message.contains("1 connections to \(destination) are in use") }, "\(harness.logs.lines)")

        // B asks while A still holds it (or just after): it gets the connection A gives back.
        let second = context("FRONTSESSIONID0000000B")
        let waiting = Task { await proxy.verifyRecipient(recipient("bob@example.com", 1, "FRONTSESSIONID0000000B"), in: second) }
        let sink = try await proxy.makeMessageSink(for: first)
        try await sink.write(ByteBuffer(string: "Subject: first\n\nhi\n"))
        let outcomes = await proxy.deliver(sink, to: [LMTPAcceptedRecipient(command: bob, resolved: bobResolved)], in: first)
        #expect(outcomes.count == 1)
        guard case .acceptReplying(let secondResolved, _) = await waiting.value else {
            Issue.record("the waiting transaction was refused: \(harness.logs.lines)")
            return
        }
        let secondSink = try await proxy.makeMessageSink(for: second)
        try await secondSink.write(ByteBuffer(string: "Subject: second\n\nhi\n"))
        _ = await proxy.deliver(
            secondSink, to: [LMTPAcceptedRecipient(command: recipient("bob@example.com", 1, "FRONTSESSIONID0000000B"), resolved: secondResolved)],
            in: second)
        #expect(backend.files(backend.maildir("bob")).count == 2)
        #expect(await pool.openCount(destination) == 1)
        await pool.shutdown()
    }

    @Test("a received TTL of 0 stops a relayed recipient with Dovecot's looping reply")
    func ttlZero() async throws {
        let harness = try DeliveryHarness()
        let delivery = try harness.delivery(users: [:])
        let passdb = TablePassdb(records: ["bob@example.com": proxied("bob@example.com", port: 9)])
        let proxy = LMTPProxyBackend(
            local: LMTPLocalBackend(delivery: delivery), passdb: passdb, pool: ProxyConnectionPool(),
            logger: harness.logs.logger)
        let verdict = await proxy.verifyRecipient(recipient("bob@example.com", 1), in: context(ttl: 0))
        guard case .reject(let reply) = verdict else {
            Issue.record("accepted")
            return
        }
        #expect(reply.wireFormat == "554 5.4.6 <bob@example.com> Proxying appears to be looping (TTL=0)\r\n")
    }

    @Test("a passdb that cannot answer defers the recipient with 451 4.3.0")
    func passdbFailure() async throws {
        let harness = try DeliveryHarness()
        let delivery = try harness.delivery(users: [:])
        let passdb = TablePassdb(records: ["bob@example.com": .temporaryFailure(reason: "down")])
        let proxy = LMTPProxyBackend(
            local: LMTPLocalBackend(delivery: delivery), passdb: passdb, pool: ProxyConnectionPool(),
            logger: harness.logs.logger)
        let verdict = await proxy.verifyRecipient(recipient("bob@example.com", 1), in: context())
        guard case .reject(let reply) = verdict else {
            Issue.record("accepted")
            return
        }
        #expect(reply.wireFormat == "451 4.3.0 <bob@example.com> Temporary user lookup failure\r\n")
    }
}
