import Foundation
import Glibc
import HomingTestSupport

/// A private Postfix in front of a real `homing serve`: Homing's unix listener is
/// QUEUE/private/dovecot-lmtp, owned by postfix with mode 0600 as in the seed's
/// `unix_listener` block; its TCP listener stays on `homing.port`.
struct PostfixFixture {
    let homing: IntegrationFixture
    let postfix: TestPostfix
    let server: HomingServerProcess

    /// Starts Postfix with `postfixSettings`, then Homing on an ``IntegrationFixture``
    /// (`homingSettings` added at the top level, `userdb` replacing the passwd-file block);
    /// `prepare` may edit the fixture's files before Homing starts; `rewrite` lists
    /// (old, new) replacements applied to homing.conf.
    static func start(
        postfixSettings: [(String, String)] = [], homingSettings: String = "", userdb: String? = nil,
        rewrite: [(String, String)] = [], prepare: (IntegrationFixture) async throws -> Void = { _ in }
    ) async throws -> PostfixFixture {
        let postfix = try await TestPostfix.start(settings: postfixSettings)
        let homing: IntegrationFixture
        do {
            homing = try IntegrationFixture(extraSettings: homingSettings, userdb: userdb)
        } catch {
            await postfix.stop()
            throw error
        }
        do {
            try await prepare(homing)
            var text = try String(contentsOfFile: homing.configPath, encoding: .utf8)
            let listener = [
                ("unix_listener lmtp {", "unix_listener \(postfix.lmtpSocketPath) {"),
                ("user = nobody", "user = postfix"),
                ("group = nogroup", "group = postfix"),
            ]
            // Settings may name the private Postfix: its SMTP port and its configuration directory.
            text = text.replacingOccurrences(of: "@POSTFIX_SMTP_PORT@", with: String(postfix.smtpPort))
                .replacingOccurrences(of: "@POSTFIX_CONFIG@", with: postfix.configDirectory)
            for (old, new) in listener + rewrite {
                guard text.contains(old) else {
                    throw TestProcessError(message: "homing.conf of the fixture has no '\(old)' to replace")
                }
                text = text.replacingOccurrences(of: old, with: new)
            }
            try text.write(toFile: homing.configPath, atomically: false, encoding: .utf8)
            let server = try await HomingServerProcess(
                config: homing.configPath, logPath: homing.dir.file("homing.log"),
                waitForUnixSocket: postfix.lmtpSocketPath, waitForPort: homing.port)
            return PostfixFixture(homing: homing, postfix: postfix, server: server)
        } catch {
            await postfix.stop()
            homing.dir.remove()
            throw error
        }
    }

    /// Runs `body`, then stops everything (also when `body` throws), awaiting the stop so
    /// nothing is left behind when the test process ends.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    /// Stops Homing and Postfix and removes their directories.
    func stop() async {
        await server.stop()
        await postfix.stop()
        homing.dir.remove()
    }

    /// Both logs, for failure messages.
    var logs: String {
        "--- postfix:\n\(postfix.maillog)\n--- homing:\n\(server.log)"
    }

    /// The text of the single message in `maildir`/new.
    func onlyMessage(in maildir: String) throws -> String? {
        let names = homing.files(maildir)
        guard names.count == 1 else { return nil }
        return try String(contentsOfFile: maildir + "/new/" + names[0], encoding: .utf8)
    }
}

/// The LMTP reply inside a Postfix `status=...` log line: `250 2.0.0 <alice@example.com> ID Saved`
/// from `... status=sent (250 2.0.0 <alice@example.com> ID Saved)`.
func lmtpReplyInLogLine(_ line: String) -> String? {
    guard let start = line.range(of: "status=sent (") else { return nil }
    var reply = line[start.upperBound...]
    if reply.hasSuffix(")") { reply = reply.dropLast() }
    return String(reply)
}

/// The Homing session id in `250 2.0.0 <rcpt> ID[:Rn] Saved`, without the `:Rn` suffix.
func sessionBase(_ reply: String) -> String? {
    replyID(reply).map { String($0.split(separator: ":").first ?? "") }
}
