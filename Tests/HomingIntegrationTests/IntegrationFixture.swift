import Foundation
import Glibc
import HomingTestSupport

/// A temporary Homing installation for one test: configuration, passwd-file users,
/// a mail root, listeners on a unix socket and a free TCP port.
struct IntegrationFixture {
    let dir: ScratchDirectory
    let port: Int
    /// The uid/gid mail is delivered as: 5000 when the tests run as root, else our own.
    let uid: UInt32
    let gid: UInt32

    var socketPath: String { dir.file("run/lmtp") }
    var configPath: String { dir.file("homing.conf") }
    var mailRoot: String { dir.file("mail") }

    /// - Parameters:
    ///   - extraSettings: lines added to the top level of homing.conf.
    ///   - userdb: the userdb block; the default is a passwd-file with alice, bob and carol.
    init(extraSettings: String = "", userdb: String? = nil) throws {
        dir = try ScratchDirectory("homing-it")
        port = freeLoopbackPort()
        uid = geteuid() == 0 ? 5000 : geteuid()
        gid = geteuid() == 0 ? 5000 : getegid()
        for sub in ["run", "tmp", "mail"] {
            try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true)
        }
        chmod(dir.file("tmp"), 0o1777)
        if geteuid() == 0 { chown(mailRoot, uid, gid) }
        try dir.write(
            "users",
            """
            # test users
            alice@example.com::\(uid):\(gid)::\(mailRoot)/example.com/alice::
            bob@example.com::\(uid):\(gid)::\(mailRoot)/example.com/bob::userdb_quota_rule=*:storage=1M
            carol@example.org::\(uid):\(gid)::\(mailRoot)/example.org/carol::
            broken@example.com::notanumber:\(gid)::\(mailRoot)/example.com/broken::

            """)
        let userdbBlock =
            userdb ?? """
            userdb {
              driver = passwd-file
              args = \(dir.file("users"))
            }
            """
        try dir.write(
            "homing.conf",
            """
            protocols = lmtp
            base_dir = \(dir.file("run"))
            postmaster_address = postmaster@example.com
            hostname = mx.example.com
            mail_location = maildir:~/Maildir
            mail_temp_dir = \(dir.file("tmp"))
            first_valid_uid = 100
            recipient_delimiter = +
            \(extraSettings)
            service lmtp {
              unix_listener lmtp {
                mode = 0600
                \(geteuid() == 0 ? "user = nobody\n    group = nogroup" : "")
              }
              inet_listener lmtp {
                address = 127.0.0.1
                port = \(port)
              }
            }
            \(userdbBlock)
            log_path = /dev/stderr

            """)
    }

    /// Starts `homing serve` on this configuration.
    func startServer(environment: [String: String] = [:]) async throws -> HomingServerProcess {
        try await HomingServerProcess(
            config: configPath, logPath: dir.file("homing.log"), waitForUnixSocket: socketPath, waitForPort: port,
            environment: environment)
    }

    /// Files in a maildir subdirectory (`new`, `cur`), sorted.
    func files(_ maildir: String, _ sub: String = "new") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: maildir + "/" + sub)) ?? []).sorted()
    }

    func maildir(_ user: String, domain: String = "example.com") -> String {
        "\(mailRoot)/\(domain)/\(user)/Maildir"
    }
}

/// `stat` of a path: owner, group, permission bits.
func ownership(_ path: String) -> (uid: UInt32, gid: UInt32, mode: UInt32)? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return (info.st_uid, info.st_gid, UInt32(info.st_mode) & 0o7777)
}

/// The session id in a `250 2.0.0 <rcpt> <id> Saved` reply.
func replyID(_ reply: String) -> String? {
    let parts = reply.split(separator: " ")
    return parts.count == 5 ? String(parts[3]) : nil
}

/// After a userdb outage: retries `MAIL` + `RCPT TO:<recipient>` (with `RSET` between tries)
/// until the RCPT is accepted or `seconds` pass. Returns whether it was accepted; the
/// transaction is left open after an accepted RCPT.
func waitUntilRecipientAccepted(
    _ client: LMTPTestClient, _ recipient: String, seconds: Double, pause: Duration
) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        _ = try await client.command("MAIL FROM:<a@b>")
        if try await client.command("RCPT TO:<\(recipient)>") == ["250 2.1.5 OK"] { return true }
        _ = try await client.command("RSET")
        try await Task.sleep(for: pause)
    }
    return false
}
