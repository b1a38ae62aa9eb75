import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Issue 19, item 3: a userdb home in a system directory is refused at RCPT, with the reply a
/// uid out of range gets, and nothing is written anywhere.
@Suite("Unsafe homes are refused at RCPT, end to end", .serialized)
struct UnsafeHomeIntegrationTests {
    @Test("homes /root, /etc, / and /etc/x get 451 4.3.0 at RCPT, like a uid below first_valid_uid")
    func refusedAtRcpt() async throws {
        let fixture = try IntegrationFixture()
        defer { fixture.dir.remove() }
        let (uid, gid) = (fixture.uid, fixture.gid)
        try fixture.dir.write(
            "users",
            """
            root-home@example.com::\(uid):\(gid)::/root::
            etc-home@example.com::\(uid):\(gid)::/etc::
            slash-home@example.com::\(uid):\(gid)::/::
            etc-below@example.com::\(uid):\(gid)::/etc/homing-test-mail::
            low-uid@example.com::50:\(gid)::\(fixture.mailRoot)/low::
            alice@example.com::\(uid):\(gid)::\(fixture.mailRoot)/example.com/alice::

            """)
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        for user in ["root-home", "etc-home", "slash-home", "etc-below", "low-uid"] {
            #expect(
                try await client.command("RCPT TO:<\(user)@example.com>")
                    == ["451 4.3.0 <\(user)@example.com> Temporary internal error"], "\(user)")
        }
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("QUIT") == ["221 2.0.0 Bye"])
        await server.stop()
        let log = server.log
        #expect(log.contains("home '/root' is a system directory (/root): Homing does not deliver there"), "\(log)")
        #expect(log.contains("home '/etc' is a system directory (/etc)"))
        #expect(log.contains("home '/' is a system directory shared by everyone (/)"))
        #expect(log.contains("home '/etc/homing-test-mail' is inside the system directory /etc"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/homing-test-mail"))
    }
}
