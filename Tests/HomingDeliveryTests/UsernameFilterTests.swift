import HomingConfig
import HomingTestSupport
import HomingUserdb
import Testing

@testable import HomingDelivery

/// Every name's answer from a userdb that knows everybody (like `static` with
/// `allow_all_users`), recording what it was asked.
private final class EveryoneExists: UserLookup {
    let asked = Locked<[String]>([])
    func lookup(_ request: UserdbRequest) async -> UserdbResult {
        asked.append(request.user)
        return .found(
            UserRecord(
                user: request.user,
                fields: [UserdbField("uid", "5000"), UserdbField("gid", "5000"), UserdbField("home", "/var/vmail/\(request.user)")]))
    }
}

@Suite("auth_username_chars and auth_username_translation, as Dovecot's auth applies them")
struct UsernameFilterTests {
    @Test("Dovecot's default characters: letters, digits and .-_@ pass; =, #, ', space, / and non-ASCII are refused")
    func defaultCharacters() {
        let filter = UsernameFilter(characters: UsernameFilter.defaultCharacters)
        #expect(UsernameFilter.defaultCharacters == "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@")
        #expect(filter.apply("Alice.Smith-1_x@Example.COM") == .success("Alice.Smith-1_x@Example.COM"))
        for name in ["a=b@example.com", "x#y@example.com", "o'neil@example.com", "a b@example.com", "a/b@example.com",
                     "café@example.com", "a+b@example.com"] {
            guard case .failure = filter.apply(name) else {
                Issue.record("\(name) should be refused")
                continue
            }
        }
    }

    @Test("the refusal names the first refused byte and the name, in Dovecot's words")
    func refusalText() {
        let filter = UsernameFilter(characters: UsernameFilter.defaultCharacters)
        #expect(filter.apply("a=b@example.com")
            == .failure(UsernameFilter.Refusal(byte: 0x3d, name: "a=b@example.com")))
        #expect("\(UsernameFilter.Refusal(byte: 0x3d, name: "a=b@example.com"))"
            == "Username character disallowed by auth_username_chars: 0x3d (username: a=b@example.com)")
        #expect("\(UsernameFilter.Refusal(byte: 0x09, name: "a\tb"))".hasPrefix(
            "Username character disallowed by auth_username_chars: 0x09 "))
    }

    @Test("an empty auth_username_chars permits every character")
    func emptyDisables() {
        let filter = UsernameFilter(characters: "")
        #expect(filter.isIdentity)
        #expect(filter.apply("o'neil=x#y@example.com") == .success("o'neil=x#y@example.com"))
    }

    @Test("translation replaces each first character of a pair by the second, before the character check")
    func translationFirst() {
        // `=` is not permitted, but it is translated to `.` first, as Dovecot does.
        let filter = UsernameFilter(characters: UsernameFilter.defaultCharacters, translation: "=.#@")
        #expect(filter.apply("a=b@example.com") == .success("a.b@example.com"))
        #expect(filter.apply("x#y") == .success("x@y"))
        #expect(filter.apply("a=b#c=d") == .success("a.b@c.d"))
        // A character translated into one that is not permitted is refused.
        let bad = UsernameFilter(characters: UsernameFilter.defaultCharacters, translation: "a=")
        #expect(bad.apply("alice") == .failure(UsernameFilter.Refusal(byte: 0x3d, name: "alice")))
    }

    @Test("translation pairs: a character left over at the end is ignored, a later pair for the same character wins, no chaining")
    func translationPairs() {
        let filter = UsernameFilter(characters: "", translation: "ab" + "ac" + "cd" + "x")
        // a→c (the later pair), c→d; a translated `c` is not translated again.
        #expect(filter.apply("abcx") == .success("cbdx"))
    }

    @Test("the check is on bytes: a translation that would leave invalid UTF-8 refuses the name instead of corrupting it")
    func bytes() {
        // The pairs are bytes, as in Dovecot: "é" is C3 A9, so "\u{e9}e" is the pair C3 → A9
        // and a left-over "e".
        let cut = UsernameFilter(characters: "", translation: "\u{e9}e")
        guard case .failure(let refusal) = cut.apply("café") else {
            Issue.record("a translation leaving invalid UTF-8 must refuse the name")
            return
        }
        #expect(refusal.byte == 0xA9)
        #expect(cut.apply("cafe") == .success("cafe"))
    }

    // MARK: - Through the resolver: every lookup

    private func resolver(
        chars: String = UsernameFilter.defaultCharacters, translation: String = "", format: String = "%Lu"
    ) throws -> (RecipientResolver, EveryoneExists) {
        var settings = HomingSettings()
        settings.mailLocation = "maildir:~/Maildir"
        settings.authUsernameChars = chars
        settings.authUsernameTranslation = translation
        settings.authUsernameFormat = format
        let users = EveryoneExists()
        return (try RecipientResolver(settings: settings, users: users, processUID: 0), users)
    }

    @Test("an LMTP recipient with a refused character does not exist (550 User doesn't exist: <name without detail>) and the userdb is never asked")
    func lmtpRecipientRefused() async throws {
        let (resolver, users) = try resolver()
        for address in ["a=b@example.com", "x#y+tag@example.com", "o'neil@example.com"] {
            do {
                _ = try await resolver.resolve(address: address)
                Issue.record("\(address) should not exist")
            } catch {
                guard case .invalidAddress(let lookedUp, let reason) = error else {
                    Issue.record("\(address): \(error)")
                    continue
                }
                #expect(lookedUp == RecipientAddress(address, delimiters: "+").user)
                #expect(reason.hasPrefix("Username character disallowed by auth_username_chars: 0x"))
                #expect(error.deliveryFailure == .refused(.noSuchUser(lookedUp: lookedUp)))
            }
        }
        #expect(users.asked.current.isEmpty)
        // The detail is split off before the check, as LMTP does before asking auth.
        _ = try await resolver.resolve(address: "alice+a=b@example.com")
        #expect(users.asked.current == ["alice@example.com"])
    }

    @Test("homing user and homing quota lookups are filtered the same way")
    func cliLookupRefused() async throws {
        let (resolver, users) = try resolver()
        await #expect(throws: RecipientResolver.Failure.invalidAddress(
            lookedUp: "a=b@example.com",
            reason: "Username character disallowed by auth_username_chars: 0x3d (username: a=b@example.com)")) {
            _ = try await resolver.lookup("a=b@example.com")
        }
        #expect(users.asked.current.isEmpty)
    }

    @Test("order as in Dovecot: translation, then the character check, then auth_username_format")
    func order() async throws {
        // Upper case is not permitted: the check runs before %Lu would have lower-cased it.
        let (strict, _) = try resolver(chars: "abcdefghijklmnopqrstuvwxyz0123456789.-_@")
        await #expect(throws: RecipientResolver.Failure.self) { _ = try await strict.lookup("Alice@example.com") }
        // Translation before the check and before the format: A=B → A.B → a.b.
        let (translating, users) = try resolver(translation: "=.")
        let record = try await translating.lookup("A=B@example.com")
        #expect(record.user == "a.b@example.com")
        #expect(users.asked.current == ["a.b@example.com"])
        // The format sees the translated name (%n and %d of it).
        let (formatting, formatted) = try resolver(translation: "#@", format: "%Ln")
        _ = try await formatting.resolve(address: "bob#example.com")
        #expect(formatted.asked.current == ["bob"])
    }

    @Test("an empty auth_username_chars lets every name through to the userdb")
    func disabled() async throws {
        let (resolver, users) = try resolver(chars: "")
        _ = try await resolver.resolve(address: "o'neil@example.com")
        #expect(users.asked.current == ["o'neil@example.com"])
    }

    @Test("the settings are read from dovecot.conf with Dovecot's defaults; an empty value disables the check")
    func settings() throws {
        let defaults = try ConfigurationLoader.parse(text: "postmaster_address = p@example.com\n", file: "d.conf").settings
        #expect(defaults.authUsernameChars == UsernameFilter.defaultCharacters)
        #expect(defaults.authUsernameTranslation == "")
        let set = try ConfigurationLoader.parse(
            text: "postmaster_address = p@example.com\nauth_username_chars =\nauth_username_translation = \"#@/@\"\n",
            file: "d.conf"
        ).settings
        #expect(set.authUsernameChars == "")
        #expect(set.authUsernameTranslation == "#@/@")
    }
}
