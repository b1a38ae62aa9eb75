import Foundation
import Glibc
import HomingTestSupport
import Testing

/// Issue 19, item 1, against the real server with quota and Sieve on: a symbolic link planted
/// at any level below a user's home (all users share one uid, so a write through it would
/// succeed) makes the delivery answer 451 and nothing is written through it; the home itself
/// may be a link.
@Suite("No write through a symlink below the home, end to end", .serialized)
struct SymlinkIntegrationTests {
    /// Every file below `path` with its content, directories marked with a trailing `/`.
    static func snapshot(_ path: String) -> [String: String] {
        var result: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
        while let relative = walker.nextObject() as? String {
            let full = path + "/" + relative
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                result[relative + "/"] = ""
            } else {
                result[relative] = (try? String(contentsOfFile: full, encoding: .utf8)) ?? "<\(info.st_size) bytes>"
            }
        }
        return result
    }

    /// Each user and where the link goes (relative to the home → relative to the victim's home).
    static let links: [(user: String, link: String, target: String)] = [
        ("maildir", "Maildir", "Maildir"),
        ("new", "Maildir/new", "Maildir/new"),
        ("tmp", "Maildir/tmp", "Maildir/tmp"),
        ("cur", "Maildir/cur", "Maildir/cur"),
        ("folder", "Maildir/.lists", "Maildir"),
        ("maildirsize", "Maildir/maildirsize", "Maildir/maildirsize"),
        ("tracking", ".homing.sieve-tracking", "tracking"),
        ("trackinglock", ".homing.sieve-tracking.lock", "tracking"),
        ("sievelog", ".dovecot.sieve.log", "sieve.log"),
    ]

    func makeTree(_ path: String, uid: UInt32, gid: UInt32) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if geteuid() == 0 { chown(path, uid, gid) }
    }

    func write(_ text: String, to path: String, uid: UInt32, gid: UInt32) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if geteuid() == 0 { chown(path, uid, gid) }
    }

    @Test("a link at Maildir, new, tmp, cur, a folder, maildirsize, the tracking file or the Sieve log: 451, nothing written through it")
    func linksAtEveryLevel() async throws {
        let fixture = try IntegrationFixture(extraSettings: "lmtp_save_to_detail_mailbox = yes\nsendmail_path = /bin/true")
        defer { fixture.dir.remove() }
        let (uid, gid) = (fixture.uid, fixture.gid)
        let domain = fixture.mailRoot + "/example.com"
        try makeTree(domain, uid: uid, gid: gid)

        // The victim: another user's home with a maildir, a maildirsize, a tracking file and a log.
        let victim = domain + "/victim"
        for sub in ["cur", "new", "tmp", ".lists/cur", ".lists/new", ".lists/tmp"] {
            try makeTree(victim + "/Maildir/" + sub, uid: uid, gid: gid)
        }
        try write("1073741824S\n0 0\n", to: victim + "/Maildir/maildirsize", uid: uid, gid: gid)
        try write("victim's tracking\n", to: victim + "/tracking", uid: uid, gid: gid)
        try write("victim's log\n", to: victim + "/sieve.log", uid: uid, gid: gid)

        var users = "victim@example.com::\(uid):\(gid)::\(victim)::\n"
        for (user, link, target) in Self.links {
            let home = domain + "/" + user
            for sub in ["cur", "new", "tmp", ".lists/cur", ".lists/new", ".lists/tmp"] {
                try makeTree(home + "/Maildir/" + sub, uid: uid, gid: gid)
            }
            try write("1073741824S\n0 0\n", to: home + "/Maildir/maildirsize", uid: uid, gid: gid)
            // A script that uses the tracking file, or one that does not compile (its error goes to the log).
            let script = user == "sievelog" ? "keep\nkeep;\n" : "require \"vacation\";\nvacation :days 1 \"away\";\n"
            try write(script, to: home + "/.dovecot.sieve", uid: uid, gid: gid)
            let linkPath = home + "/" + link
            if FileManager.default.fileExists(atPath: linkPath) { try FileManager.default.removeItem(atPath: linkPath) }
            #expect(symlink(victim + "/" + target, linkPath) == 0)
            if geteuid() == 0 { lchown(linkPath, uid, gid) }
            users += "\(user)@example.com::\(uid):\(gid)::\(home)::\n"
        }
        // The home itself a link (the administrator's part of the path): delivered.
        let realHome = fixture.mailRoot + "/real-homes/linkedhome"
        try makeTree(realHome, uid: uid, gid: gid)
        #expect(symlink(realHome, domain + "/linkedhome") == 0)
        users += "linkedhome@example.com::\(uid):\(gid)::\(domain)/linkedhome::\n"
        try fixture.dir.write("users", users)

        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try (text + """
            protocol lmtp {
              mail_plugins = $mail_plugins quota sieve
            }
            plugin {
              quota = maildir:User quota
              quota_rule = *:storage=1G
              sieve = file:~/sieve;active=~/.dovecot.sieve
            }

            """).write(toFile: fixture.configPath, atomically: false, encoding: .utf8)

        let before = Self.snapshot(victim)
        let server = try await fixture.startServer()
        let client = try await LMTPTestClient.session(unixPath: fixture.socketPath)
        let message = "From: sender@example.org\r\nSubject: link test\r\nMessage-ID: <link@example.org>\r\n\r\nbody\r\n.\r\n"
        for (user, link, _) in Self.links {
            let address = user == "folder" ? "folder+lists@example.com" : "\(user)@example.com"
            #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
            #expect(try await client.command("RCPT TO:<\(address)>") == ["250 2.1.5 OK"], "\(user)")
            #expect(try await client.command("DATA") == ["354 OK"])
            try await client.send(message)
            let reply = try await client.readReply()
            #expect(reply == ["451 4.3.0 <\(address)> Temporary internal error"], "link at \(link): \(reply)")
        }
        #expect(try await client.command("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"])
        #expect(try await client.command("RCPT TO:<linkedhome@example.com>") == ["250 2.1.5 OK"])
        #expect(try await client.command("DATA") == ["354 OK"])
        try await client.send(message)
        let saved = try await client.readReply()
        #expect(saved.first?.hasPrefix("250 2.0.0 <linkedhome@example.com>") == true, "\(saved) \(server.log)")
        #expect(fixture.files(realHome + "/Maildir").count == 1)

        // homing quota get/recalc for a user whose Maildir is a link: a temporary failure, nothing written.
        for command in ["get", "recalc"] {
            let result = try await HomingBinary.run(["quota", command, "-c", fixture.configPath, "maildir@example.com"])
            #expect(result.status == 75, "quota \(command): \(result.standardOutput) \(result.standardError)")
            #expect(result.standardError.contains("symlink not allowed"), "\(result.standardError)")
        }
        await server.stop()

        #expect(Self.snapshot(victim) == before)
        let log = server.log
        for (user, link, _) in Self.links where !["tracking", "trackinglock", "sievelog"].contains(user) {
            #expect(log.contains("symlink not allowed: \(domain)/\(user)/\(link)"), "\(user)")
        }
        #expect(log.contains("refusing to follow the symbolic link \(domain)/tracking/.homing.sieve-tracking "))
        #expect(log.contains("refusing to follow the symbolic link \(domain)/trackinglock/.homing.sieve-tracking.lock "))
        #expect(log.contains("symlink not allowed: \(domain)/sievelog/.dovecot.sieve.log"))
    }
}
