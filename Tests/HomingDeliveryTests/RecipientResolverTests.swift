import HomingConfig
import HomingUserdb
import Testing

@testable import HomingDelivery

/// A fixed answer per user name: the resolver's checks are pure logic on top of whatever the
/// userdb returns (the real drivers have their own tests, and the integration tests run them).
private struct FixedLookup: UserLookup {
    var records: [String: UserdbResult]
    func lookup(_ request: UserdbRequest) async -> UserdbResult { records[request.user] ?? .notFound }
}

@Suite("Recipient resolution and its safety checks")
struct RecipientResolverTests {
    func settings(_ change: (inout HomingSettings) -> Void = { _ in }) -> HomingSettings {
        var settings = HomingSettings()
        settings.mailLocation = "maildir:~/Maildir"
        settings.postmasterAddress = "postmaster@example.com"
        change(&settings)
        return settings
    }

    func record(_ user: String, uid: String = "5000", gid: String = "5000", home: String? = nil) -> UserdbResult {
        var fields = [UserdbField("uid", uid), UserdbField("gid", gid)]
        fields.append(UserdbField("home", home ?? "/var/vmail/\(user)"))
        return .found(UserRecord(user: user, fields: fields))
    }

    @Test("as root, a normal user resolves to its uid/gid, home and INBOX; the detail is split off and lower-cased")
    func resolvesAsRoot() async throws {
        let users = FixedLookup(records: ["alice@example.com": record("alice@example.com")])
        let resolver = try RecipientResolver(settings: settings(), users: users, processUID: 0)
        let user = try await resolver.resolve(address: "Alice+News@Example.com")
        #expect(user.identity?.uid == 5000 && user.identity?.gid == 5000)
        #expect(user.mailLocation.root == "/var/vmail/alice@example.com/Maildir")
        #expect(user.detail == "News")
        #expect(user.mailbox == "INBOX")
    }

    @Test("lmtp_save_to_detail_mailbox sends the detail to its folder")
    func detailMailbox() async throws {
        let users = FixedLookup(records: ["alice@example.com": record("alice@example.com")])
        let resolver = try RecipientResolver(
            settings: settings { $0.lmtpSaveToDetailMailbox = true }, users: users, processUID: 0)
        #expect(try await resolver.resolve(address: "alice+lists@example.com").mailbox == "lists")
    }

    @Test("delivery as root (uid 0), gid 0, or a uid below first_valid_uid is a temporary failure, never a write")
    func refusesPrivilegedIdentities() async throws {
        let users = FixedLookup(records: [
            "root@x": record("root@x", uid: "0"),
            "wheel@x": record("wheel@x", gid: "0"),
            "daemon@x": record("daemon@x", uid: "1"),
            "high@x": record("high@x", uid: "70000"),
        ])
        let resolver = try RecipientResolver(
            settings: settings { $0.lastValidUID = 60000 }, users: users, processUID: 0)
        for name in ["root@x", "wheel@x", "daemon@x", "high@x"] {
            await #expect(throws: RecipientResolver.Failure.self) { _ = try await resolver.resolve(address: name) }
            do {
                _ = try await resolver.resolve(address: name)
            } catch {
                guard case .unusable(let reason) = error else {
                    Issue.record("\(name): expected a temporary failure, got \(error)")
                    continue
                }
                #expect(reason.contains(name))
            }
        }
    }

    @Test("not root: a different uid cannot be delivered to; the process's own uid can, without switching")
    func nonRoot() async throws {
        let users = FixedLookup(records: [
            "me@x": record("me@x", uid: "1234"), "other@x": record("other@x", uid: "5000"),
        ])
        let resolver = try RecipientResolver(settings: settings(), users: users, processUID: 1234)
        #expect(try await resolver.resolve(address: "me@x").identity == nil)
        await #expect(throws: RecipientResolver.Failure.notPermitted(
            reason: "user other@x: cannot deliver as uid 5000: Homing runs as uid 1234, not root")) {
            _ = try await resolver.resolve(address: "other@x")
        }
    }

    @Test("unknown users give notFound with the address as sent minus its detail")
    func notFound() async throws {
        let resolver = try RecipientResolver(settings: settings(), users: FixedLookup(records: [:]), processUID: 0)
        await #expect(throws: RecipientResolver.Failure.notFound(lookedUp: "Nosuch@example.com")) {
            _ = try await resolver.resolve(address: "Nosuch+tag@example.com")
        }
    }

    @Test("user names and domains that would escape the mail tree are refused before any lookup")
    func pathEscapes() async throws {
        let resolver = try RecipientResolver(settings: settings(), users: FixedLookup(records: [:]), processUID: 0)
        for address in ["../x@example.com", "..@example.com", "a@..", "a/b@example.com", "a@b/c"] {
            do {
                _ = try await resolver.resolve(address: address)
                Issue.record("\(address) was not refused")
            } catch {
                guard case .invalidAddress = error else {
                    Issue.record("\(address): \(error)")
                    continue
                }
            }
        }
    }

    @Test("a userdb value that would escape (user field with '/'), a relative home or no mail location is a temporary failure")
    func badUserdbValues() async throws {
        let users = FixedLookup(records: [
            "a@x": .found(UserRecord(user: "../../etc@x", fields: [UserdbField("uid", "5000"), UserdbField("gid", "5000"), UserdbField("home", "/h")])),
            "b@x": record("b@x", home: "relative/home"),
            "c@x": .found(UserRecord(user: "c@x", fields: [UserdbField("uid", "5000"), UserdbField("gid", "5000")])),
        ])
        let resolver = try RecipientResolver(settings: settings(), users: users, processUID: 0)
        for name in ["a@x", "b@x", "c@x"] {
            do {
                _ = try await resolver.resolve(address: name)
                Issue.record("\(name) resolved")
            } catch {
                guard case .unusable = error else {
                    Issue.record("\(name): \(error)")
                    continue
                }
            }
        }
    }

    @Test("a home or mail root in a system directory is a temporary failure at RCPT, like a uid out of range")
    func systemDirectories() async throws {
        let unsafe = ["/root", "/etc", "/", "/etc/mail", "/usr/local/alice", "/home", "/var/mail", "/var/vmail/../../etc", "/proc/self"]
        var records: [String: UserdbResult] = [:]
        for (index, home) in unsafe.enumerated() { records["u\(index)@x"] = record("u\(index)@x", home: home) }
        records["root-mail@x"] = .found(UserRecord(user: "root-mail@x", fields: [
            UserdbField("uid", "5000"), UserdbField("gid", "5000"), UserdbField("home", "/var/vmail/r"),
            UserdbField("mail", "maildir:/etc/maildir"),
        ]))
        records["inbox@x"] = .found(UserRecord(user: "inbox@x", fields: [
            UserdbField("uid", "5000"), UserdbField("gid", "5000"), UserdbField("home", "/var/vmail/i"),
            UserdbField("mail", "maildir:~/Maildir:INBOX=/root/inbox"),
        ]))
        let resolver = try RecipientResolver(settings: settings(), users: FixedLookup(records: records), processUID: 0)
        for name in records.keys.sorted() {
            do {
                _ = try await resolver.resolve(address: name)
                Issue.record("\(name) resolved")
            } catch {
                guard case .unusable(let reason) = error else {
                    Issue.record("\(name): \(error)")
                    continue
                }
                #expect(reason.contains("Homing does not deliver there"), "\(reason)")
                #expect(error.deliveryFailure == .deferred(.unusableUser))
            }
        }
        let fine = FixedLookup(records: [
            "a@x": record("a@x", home: "/home/alice"), "b@x": record("b@x", home: "/var/vmail/example.com/b"),
            "c@x": record("c@x", home: "/srv/mail/c"), "d@x": record("d@x", home: "/var/mail/d"),
        ])
        let fineResolver = try RecipientResolver(settings: settings(), users: fine, processUID: 0)
        for name in ["a@x", "b@x", "c@x", "d@x"] {
            _ = try await fineResolver.resolve(address: name)
        }
    }

    @Test("mail_uid naming an unknown user stops start-up")
    func unknownMailUID() throws {
        #expect(throws: ConfigError("mail_uid: unknown user 'no-such-user-here'")) {
            _ = try RecipientResolver(
                settings: settings { $0.mailUID = "no-such-user-here" }, users: FixedLookup(records: [:]), processUID: 0)
        }
    }
}
