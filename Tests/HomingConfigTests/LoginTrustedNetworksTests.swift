import Testing

@testable import HomingConfig

@Suite("login_trusted_networks")
struct LoginTrustedNetworksTests {
    private func load(_ text: String) throws -> HomingSettings {
        try ConfigurationLoader.parse(text: minimalConfiguration + text, file: "d.conf").settings
    }

    private func error(_ text: String) -> String? {
        do throws(ConfigError) {
            _ = try ConfigurationLoader.parse(text: minimalConfiguration + text, file: "d.conf")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("networks and single addresses, IPv4 and IPv6, separated by spaces and commas")
    func parsesList() throws {
        let settings = try load("login_trusted_networks = 127.0.0.1, 10.0.0.0/8 ::1,[fd00::]/8  192.168.1.7/24\n")
        #expect(settings.loginTrustedNetworks.map(\.description) == ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "192.168.1.7/24"])
        #expect(settings.isTrustedClient("127.0.0.1"))
        #expect(!settings.isTrustedClient("127.0.0.2"))
        #expect(settings.isTrustedClient("10.200.3.4"))
        #expect(!settings.isTrustedClient("11.0.0.1"))
        #expect(settings.isTrustedClient("::1"))
        #expect(settings.isTrustedClient("fdab:1::5"))
        #expect(!settings.isTrustedClient("fe80::1"))
        // Host bits beyond the prefix do not matter, as in Dovecot.
        #expect(settings.isTrustedClient("192.168.1.200"))
        #expect(!settings.isTrustedClient("192.168.2.1"))
        // An IPv4 peer seen by a dual-stack listener.
        #expect(settings.isTrustedClient("::ffff:10.1.2.3"))
        // A unix socket client has no address and is not trusted.
        #expect(!settings.isTrustedClient(nil))
        #expect(!settings.isTrustedClient("not an address"))
    }

    @Test("empty by default: nobody is trusted; the value prints back as doveconf would")
    func defaultAndRender() throws {
        #expect(HomingSettings().loginTrustedNetworks.isEmpty)
        #expect(!HomingSettings().isTrustedClient("127.0.0.1"))
        #expect(try load("login_trusted_networks =\n").loginTrustedNetworks.isEmpty)
        let definition = try #require(SettingDefinitions.all["login_trusted_networks"])
        #expect(definition.render(try load("login_trusted_networks = 10.0.0.0/8,::1\n")) == "10.0.0.0/8 ::1")
    }

    @Test("prefix lengths cover all or nothing at the edges")
    func prefixEdges() throws {
        let all = try IPNetwork(parsing: "0.0.0.0/0")
        #expect(all.contains("203.0.113.9"))
        #expect(!all.contains("2001:db8::1"))
        let odd = try IPNetwork(parsing: "10.0.0.0/9")
        #expect(odd.contains("10.127.255.255"))
        #expect(!odd.contains("10.128.0.0"))
        let v6 = try IPNetwork(parsing: "2001:db8::/33")
        #expect(v6.contains("2001:db8:7fff::1"))
        #expect(!v6.contains("2001:db8:8000::1"))
        #expect(try IPNetwork(parsing: "::/0").contains("::1"))
    }

    @Test(
        "a bad network is a configuration error naming the setting, the entry and what to write",
        arguments: [
            ("mail.example.com", "'mail.example.com' is not an IPv4 or IPv6 address (host names are not allowed)"),
            ("10.0.0.0/33", "an IPv4 prefix is at most 32 bits"),
            ("::1/129", "an IPv6 prefix is at most 128 bits"),
            ("10.0.0.0/", "the prefix length after '/' must be a number of bits"),
            ("10.0.0.0/x", "the prefix length after '/' must be a number of bits"),
            ("10.0.0/8", "'10.0.0' is not an IPv4 or IPv6 address (host names are not allowed)"),
            ("fe80::1%eth0", "'fe80::1%eth0' is not an IPv4 or IPv6 address (host names are not allowed)"),
        ])
    func badNetwork(entry: String, problem: String) {
        #expect(
            error("login_trusted_networks = 127.0.0.1 \(entry)\n")
                == "d.conf:2: login_trusted_networks: invalid network '\(entry)': \(problem); write an IP address or address/bits, e.g. 10.0.0.0/8 or fd00::/8"
        )
    }

    @Test("a Dovecot 2.4 file uses the same name")
    func dovecot24() throws {
        let loaded = ConfigurationLoader.parseAll(
            text: "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\nprotocols = lmtp\npostmaster_address = p@example.com\n"
                + "login_trusted_networks = 10.0.0.0/8\n",
            file: "d.conf")
        #expect(loaded.diagnostics.errors.isEmpty, "\(loaded.diagnostics.errors)")
        #expect(loaded.settings.isTrustedClient("10.9.8.7"))
    }

    @Test("inside protocol lmtp { } it applies to LMTP, as Dovecot's lmtp settings allow")
    func protocolBlock() throws {
        let settings = try load("protocol lmtp {\n  login_trusted_networks = 192.0.2.0/24\n}\n")
        #expect(settings.isTrustedClient("192.0.2.50"))
    }
}
