import Testing
@testable import HomingConfig

/// `namespace { }`: Homing reads the hierarchy separator (Sieve's `fileinto` names follow it),
/// the prefix and `inbox`; everything else in the block is IMAP's.
@Suite("namespace { separator }")
struct NamespaceSettingsTests {
    func load(_ text: String) throws(ConfigError) -> LoadedConfiguration {
        try ConfigurationLoader.parse(text: "postmaster_address = pm@example.com\n" + text, file: "dovecot.conf")
    }

    @Test("the inbox namespace's separator is the one delivery uses; blocks of the same name are one namespace")
    func inboxSeparator() throws {
        let loaded = try load("""
            namespace inbox {
              inbox = yes
            }
            namespace shared {
              prefix = shared/
              separator = .
            }
            namespace inbox {
              separator = /
              mailbox Sent {
                special_use = \\Sent
              }
              list = yes
            }
            """)
        #expect(loaded.settings.namespaces.map(\.name) == ["inbox", "shared"])
        #expect(loaded.settings.inboxNamespaceSeparator == "/")
        #expect(loaded.warnings.map(\.description) == [
            "dovecot.conf:11: mailbox { } inside namespace inbox { } is not used by Homing (ignored)",
            "dovecot.conf:14: namespace { list } is not used by Homing (ignored)",
        ])
        #expect(loaded.nonDefaultSettingsText().contains("namespace inbox {\n  inbox = yes\n  separator = /\n}\nnamespace shared {\n  prefix = shared/\n  separator = .\n}\n"))
    }

    @Test("no namespace, or one without a separator: the storage's own separator applies (nil)")
    func noSeparator() throws {
        #expect(try load("").settings.inboxNamespaceSeparator == nil)
        #expect(try load("namespace inbox {\n  inbox = yes\n}\n").settings.inboxNamespaceSeparator == nil)
        // Without inbox = yes, the namespace with the empty prefix counts.
        #expect(try load("namespace {\n  separator = /\n}\n").settings.inboxNamespaceSeparator == "/")
    }

    @Test("a separator longer than one character or a bad inbox value is an error naming it")
    func refusals() {
        #expect(throws: ConfigError("separator: '::' must be a single character (such as / or .)", at: ConfigLocation(file: "dovecot.conf", line: 3))) {
            try load("namespace inbox {\n  separator = ::\n}\n")
        }
        #expect(throws: ConfigError.self) { try load("namespace inbox {\n  inbox = maybe\n}\n") }
    }
}

@Suite("namespace { separator } in Dovecot 2.4 files")
struct NamespaceSettings24Tests {
    @Test("a 2.4 file's namespace gives the separator, and homing config --print-2.4 writes it back")
    func dovecot24() throws {
        let text = """
            dovecot_config_version = 2.4.1
            dovecot_storage_version = 2.4.1
            protocols = lmtp
            postmaster_address = pm@example.com
            namespace inbox {
              inbox = yes
              separator = /
              mailbox Sent {
                special_use = \\Sent
              }
            }
            """
        let loaded = try ConfigurationLoader.parse(text: text, file: "dovecot.conf")
        #expect(loaded.settings.inboxNamespaceSeparator == "/")
        #expect(loaded.warnings.map(\.message).contains("mailbox { } inside namespace { } is not used by Homing (ignored)"))
        let printed = Dovecot24Printer.text(for: loaded)
        #expect(printed.contains("namespace inbox {\n  inbox = yes\n  separator = /\n}\n"), "\(printed)")
        let again = try ConfigurationLoader.parse(text: printed, file: "printed.conf")
        #expect(again.settings.namespaces.map { [$0.name ?? "", $0.separator, $0.prefix, "\($0.inbox)"] } == [["inbox", "/", "", "true"]])
    }
}
