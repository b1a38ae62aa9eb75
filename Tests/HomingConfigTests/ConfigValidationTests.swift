import Testing
@testable import HomingConfig

@Suite("Start-up checks")
struct ConfigValidationTests {
    private func error(_ text: String) -> ConfigError? {
        do throws(ConfigError) {
            _ = try ConfigurationLoader.parse(text: text, file: "/etc/dovecot/dovecot.conf")
            return nil
        } catch {
            return error
        }
    }

    @Test("postmaster_address is required, and the error says where to put it")
    func postmaster() {
        #expect(error("protocols = lmtp\n")?.description
            == "postmaster_address is not set: add it to the protocol lmtp { } section (conf.d/20-lmtp.conf in Dovecot's layout), e.g. postmaster_address = postmaster@example.com")
        #expect(error("protocol imap {\n  postmaster_address = x@y\n}\n")?.message.hasPrefix("postmaster_address is not set") == true)
        #expect(error("protocol lmtp {\n  postmaster_address = x@y\n}\n") == nil)
    }

    @Test("protocols must include lmtp")
    func protocols() {
        #expect(error("postmaster_address = a@b\nprotocols = imap pop3\n")?.description
            == "/etc/dovecot/dovecot.conf:2: protocols = imap pop3: Homing serves only LMTP, so protocols must include lmtp (e.g. protocols = imap pop3 lmtp)")
        #expect(error("postmaster_address = a@b\nprotocols = none\n")?.description
            == "/etc/dovecot/dovecot.conf:2: protocols = none: Homing serves only LMTP, so protocols must include lmtp (e.g. protocols = lmtp)")
        #expect(error("postmaster_address = a@b\nprotocols = lmtp\n") == nil)
    }
}
