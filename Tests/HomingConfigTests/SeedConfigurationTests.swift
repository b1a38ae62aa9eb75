import Testing
@testable import HomingConfig
import HomingTestSupport

/// The Dovecot setup Homing replaces (shared/seed: "Postfix and Dovecot LMTP"), file by file, verbatim.
enum SeedTree {
    static let dovecotConf = """
        !include conf.d/*.conf
        protocols = imap lmtp

        """
    static let masterConf = """
        service lmtp {
         unix_listener /var/spool/postfix/private/dovecot-lmtp {
           group = postfix
           mode = 0600
           user = postfix
          }
        }

        """
    static let lmtpConf = """
        protocol lmtp {
          postmaster_address = postmaster@domainname   # required
          mail_plugins = quota sieve
        }

        """

    /// Writes the tree into `directory` and returns the path of dovecot.conf.
    static func write(into directory: ScratchDirectory) throws -> String {
        try directory.write("conf.d/10-master.conf", masterConf)
        try directory.write("conf.d/20-lmtp.conf", lmtpConf)
        return try directory.write("dovecot.conf", dovecotConf)
    }
}

@Suite("The seed configuration")
struct SeedConfigurationTests {
    @Test("the seed's dovecot.conf, 10-master.conf and 20-lmtp.conf load as Dovecot reads them")
    func seed() throws {
        let directory = try ScratchDirectory("homing-config-test")
        defer { directory.remove() }
        let path = try SeedTree.write(into: directory)
        let loaded = try ConfigurationLoader.load(path: path)
        let settings = loaded.settings
        #expect(settings.protocols == ["imap", "lmtp"])
        #expect(settings.postmasterAddress == "postmaster@domainname")
        #expect(settings.mailPlugins == ["quota", "sieve"])
        #expect(loaded.globalSettings.mailPlugins == [])
        #expect(loaded.globalSettings.postmasterAddress == nil)
        var listener = UnixListenerSettings(path: "/var/spool/postfix/private/dovecot-lmtp",
                                            location: ConfigLocation(file: directory.path + "/conf.d/10-master.conf", line: 2))
        listener.user = "postfix"
        listener.group = "postfix"
        listener.mode = 0o600
        #expect(settings.lmtpService.unixListeners == [UnixListenerSettings(path: "lmtp"), listener])
        #expect(settings.lmtpService.inetListeners == [])
        #expect(loaded.warnings == [])
        #expect(loaded.files == [path, directory.path + "/conf.d/10-master.conf", directory.path + "/conf.d/20-lmtp.conf"])
    }
}
