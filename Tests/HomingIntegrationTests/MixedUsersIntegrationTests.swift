import Foundation
import Glibc
import HomingTestSupport
import Testing

/// One server for virtual and local users (the common small-server case): virtual users in a
/// passwd-file, local Unix accounts read from /etc/passwd as a second passwd-file that exists
/// only for the local domain (`%d` in its path), each with its own mail location.
@Suite("Virtual and local users in one server", .serialized, .enabled(if: geteuid() == 0), .timeLimit(.minutes(3)))
struct MixedUsersIntegrationTests {
    @Test("a virtual user and a local account are both delivered; names only count in their own domain")
    func bothKinds() async throws {
        let accounts = try PostfixLocalUsersTests.SystemAccounts(count: 1)
        defer { accounts.remove() }
        let local = accounts.names[0]
        let placeholder = "LOCAL_USERDB_DIRECTORY"
        let fixture = try IntegrationFixture(
            userdb: """
                userdb {
                  driver = passwd-file
                  args = USERS_FILE
                }
                userdb {
                  driver = passwd-file
                  args = username_format=%n \(placeholder)/%d
                  default_fields = mail=maildir:~/.maildir
                }
                """)
        defer { fixture.dir.remove() }
        // The local domain's "passwd-file" is /etc/passwd itself; other domains have none.
        let directory = try fixture.dir.makeDirectory("local-userdb", mode: 0o755)
        try #require(symlink("/etc/passwd", directory + "/mx.example.com") == 0)
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "USERS_FILE", with: fixture.dir.file("users"))
            .replacingOccurrences(of: placeholder, with: directory)
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)

        let server = try await fixture.startServer()
        defer { Task { await server.stop() } }
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath, from: "sender@example.org")
        #expect(try await client.command("RCPT TO:<alice@example.com>") == ["250 2.1.5 OK"], "\(server.log)")
        #expect(try await client.command("RCPT TO:<\(local)@mx.example.com>") == ["250 2.1.5 OK"], "\(server.log)")
        // A local name in a virtual domain, and a virtual name in the local domain: nobody.
        #expect(try await client.command("RCPT TO:<\(local)@example.com>") == [
            "550 5.1.1 <\(local)@example.com> User doesn't exist: \(local)@example.com"
        ])
        #expect(try await client.command("RCPT TO:<bob@mx.example.com>") == [
            "550 5.1.1 <bob@mx.example.com> User doesn't exist: bob@mx.example.com"
        ])
        // root is a local account, but never delivered to.
        #expect(try await client.command("RCPT TO:<root@mx.example.com>") == [
            "451 4.3.0 <root@mx.example.com> Temporary internal error"
        ])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send("Subject: both\r\n\r\nhello\r\n.\r\n")
        let replies = [try await client.readReply(), try await client.readReply()].flatMap { $0 }
        #expect(replies.allSatisfy { $0.hasPrefix("250 2.0.0 ") }, "\(replies)")

        #expect(fixture.files(fixture.maildir("alice")).count == 1)
        let localMaildir = accounts.homes.file(local) + "/.maildir"
        let stored = fixture.files(localMaildir)
        try #require(stored.count == 1, "\(server.log)")
        var info = stat()
        stat(localMaildir + "/new/" + stored[0], &info)
        var account = passwd()
        var buffer = [CChar](repeating: 0, count: 4096)
        var result: UnsafeMutablePointer<passwd>?
        getpwnam_r(local, &account, &buffer, buffer.count, &result)
        #expect(result != nil && info.st_uid == account.pw_uid && info.st_gid == account.pw_gid)

        // homing user shows both, each from its own userdb.
        let user = try await HomingBinary.run(["user", "-c", fixture.configPath, "\(local)@mx.example.com"])
        #expect(user.status == 0, "\(user.standardError)")
        #expect(user.standardOutput.contains("mail\tmaildir:~/.maildir\n"), "\(user.standardOutput)")
    }
}
