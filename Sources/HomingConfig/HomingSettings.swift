/// The effective settings Homing runs with: the LMTP view of a dovecot.conf tree
/// (global settings with `protocol lmtp { }` overrides applied).
///
/// Values keep Dovecot's names and defaults; each property's comment names its setting.
/// `%` variables are **not** expanded here: that happens per user, at delivery time.
public struct HomingSettings: Sendable, Equatable {
    /// `protocols` (default `imap pop3 lmtp`). Homing serves only when it includes `lmtp`.
    public var protocols: [String] = ["imap", "pop3", "lmtp"]
    /// `base_dir` (default `/run/homing`): relative `unix_listener` paths are inside it.
    public var baseDir: String = "/run/homing"
    /// `hostname` (default: the system's host name): greeting, LHLO reply, Received header.
    public var hostname: String? = nil
    /// `postmaster_address`: required for LMTP; From of rejections and vacation replies.
    public var postmasterAddress: String? = nil
    /// `mail_location` (default empty: the userdb must return `mail`).
    public var mailLocation: String = ""
    /// `mail_uid`, `mail_gid`: used when the userdb returns no uid/gid. Names or numbers.
    public var mailUID: String? = nil
    public var mailGID: String? = nil
    /// `first_valid_uid` (500), `last_valid_uid` (0 = no upper limit), and the same for gids (1, 0).
    public var firstValidUID: UInt32 = 500
    public var lastValidUID: UInt32 = 0
    public var firstValidGID: UInt32 = 1
    public var lastValidGID: UInt32 = 0
    /// `mail_plugins` (space-separated, `$mail_plugins` already resolved).
    public var mailPlugins: [String] = []
    /// `recipient_delimiter` (default `+`): each character is a delimiter; empty disables details.
    public var recipientDelimiter: String = "+"
    /// `lmtp_save_to_detail_mailbox` (no).
    public var lmtpSaveToDetailMailbox: Bool = false
    /// `lmtp_add_received_header` (yes).
    public var lmtpAddReceivedHeader: Bool = true
    /// `lmtp_hdr_delivery_address` (final): which address goes into Delivered-To and `for <>`.
    public var lmtpHdrDeliveryAddress: DeliveryAddressHeader = .final
    /// `lmtp_rcpt_check_quota` (no): refuse over-quota users at RCPT time.
    public var lmtpRcptCheckQuota: Bool = false
    /// `lmtp_proxy` (no): look each recipient up in the passdb and relay those with `proxy` or
    /// `proxy_maybe` fields to their host (see docs/scale-out.md).
    public var lmtpProxy: Bool = false
    /// `lmtp_verbose_replies` (no): a failed relay says why (`451 4.4.0 Proxy failed: <error>`).
    public var lmtpVerboseReplies: Bool = false
    /// `auth_proxy_self`: further IP addresses that count as this node for `proxy_maybe`.
    public var authProxySelf: [String] = []
    /// `lmtp_user_concurrency_limit` (0 = unlimited).
    public var lmtpUserConcurrencyLimit: Int = 0
    /// `quota_full_tempfail` (no): over quota answers 452 4.2.2 instead of 552 5.2.2.
    public var quotaFullTempfail: Bool = false
    /// `auth_username_format` (default `%Lu`): applied to the recipient before the userdb lookup.
    public var authUsernameFormat: String = "%Lu"
    /// `auth_username_chars` (Dovecot's default: letters, digits and `.-_@`): a name with any
    /// other character does not exist; empty permits every character. Checked before
    /// `auth_username_format` is applied.
    public var authUsernameChars: String =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"
    /// `auth_username_translation` (empty): pairs of characters, the first of each replaced by
    /// the second before the `auth_username_chars` check (`#@/@`).
    public var authUsernameTranslation: String = ""
    /// `mail_fsync` (optimized).
    public var mailFsync: FsyncMode = .optimized
    /// `lda_mailbox_autocreate` (no), `lda_mailbox_autosubscribe` (no).
    public var ldaMailboxAutocreate: Bool = false
    public var ldaMailboxAutosubscribe: Bool = false
    /// `mail_temp_dir` (default `/tmp`): where incoming messages are spooled.
    public var mailTempDir: String = "/tmp"
    /// `sendmail_path` (default `/usr/sbin/sendmail`) and `submission_host` (empty): outgoing mail.
    public var sendmailPath: String = "/usr/sbin/sendmail"
    public var submissionHost: String = ""
    /// `deliver_log_format` (default `msgid=%m: %$`).
    public var deliverLogFormat: String = "msgid=%m: %$"
    /// `log_path` (default `syslog`; Homing logs to standard error for `syslog` and empty),
    /// `info_log_path`, `debug_log_path`; `mail_debug` (no).
    public var logPath: String = "syslog"
    public var mailDebug: Bool = false
    /// `listen` (default `*, ::`): the addresses of `inet_listener`s that set no `address`.
    /// Already applied to ``lmtpService``'s inet listeners; kept for printing.
    public var listen: [String] = ["*", "::"]
    /// The `userdb { }` blocks, in the order they are tried.
    public var userdbs: [UserdbSettings] = []
    /// The `passdb { }` blocks, in the order they are tried, each read as a userdb block is
    /// (`driver`, `args`, `skip`, `result_*`, `default_fields`, `override_fields`) plus `deny`
    /// and `master`. Homing checks no password: a passdb is looked up for its proxy fields when
    /// the LMTP server proxies (`lmtp_proxy = yes`), and is otherwise parsed and checked only.
    public var passdbs: [UserdbSettings] = []
    /// `service lmtp { unix_listener ... { } inet_listener ... { } }`.
    public var lmtpService: LMTPServiceSettings = .init()
    /// `service stats { inet_listener NAME { address port } }`: where the OpenMetrics export
    /// (`/metrics`) listens, as Dovecot 2.3 configures its own; none by default.
    public var statsHTTPListeners: [InetListenerSettings] = []
    /// The other `service NAME { }` blocks Homing runs: `quota-status` (Postfix's policy
    /// service, served by `homing serve`) and `script` services (quota warnings), in file order.
    public var services: [ServiceSettings] = []
    /// `plugin { }` settings, in file order, for the plugins (quota, sieve). A Dovecot 2.4 file
    /// has no `plugin { }`: its quota and Sieve settings are turned into the 2.3 entries here
    /// (`quota_storage_size = 1G` gives `quota_rule = *:storage=1G`, see docs/dovecot-2.4.md).
    public var plugin: [String: String] = [:]
    /// The `%` variable syntax of every template in these settings (mail_location,
    /// auth_username_format, deliver_log_format, plugin values, userdb fields): Dovecot 2.4's
    /// for a file that starts with `dovecot_config_version = 2.4.x`, else 2.3's.
    public var variableSyntax: VariableSyntax = .dovecot23
    /// Dovecot 2.4 only: the `mail_driver`, `mail_path`, `mail_inbox_path`, `mailbox_list_layout`...
    /// settings as written (already folded into ``mailLocation``), the defaults for a userdb that
    /// returns only some of them (see ``MailStorage24/normalisedFields(_:defaults:)``).
    public var mailStorage24: [String: String] = [:]

    /// A template of these settings (or a userdb value) with their syntax.
    public func template(_ text: String) -> VariableTemplate {
        VariableTemplate(text, syntax: variableSyntax)
    }

    /// `mail_temp_scan_interval` (default 1w, 0 disables), in seconds: how often a delivery
    /// removes files older than 36 hours from a maildir's `tmp/`, as Dovecot does.
    public var mailTempScanInterval: Int = 7 * 24 * 60 * 60
    /// `mail_max_lock_timeout` (default 0), in seconds: the longest a delivery waits for a lock
    /// another process holds on a user's files (the `maildirsize` lock on the maildir) before
    /// it gives up with a 4xx. 0, Dovecot's default, leaves each lock its own bound; for the
    /// `maildirsize` lock that is ``defaultLockTimeout``.
    public var mailMaxLockTimeout: Int = 0
    /// The bound on the `maildirsize` lock when `mail_max_lock_timeout` is 0: 120 s, the
    /// longest Dovecot waits for a mailbox lock of its own (`subscriptions.lock`).
    public static let defaultLockTimeout = 120
    /// The wait for the `maildirsize` lock: `mail_max_lock_timeout`, else ``defaultLockTimeout``.
    public var effectiveLockTimeout: Int { mailMaxLockTimeout > 0 ? mailMaxLockTimeout : Self.defaultLockTimeout }
    /// `auth_cache_size` (default 0: no cache), in bytes: the most the userdb and passdb
    /// answers kept in memory may take (see ``authCacheTTL``).
    public var authCacheSize: Int64 = 0
    /// `auth_cache_ttl` (default 1 hour), in seconds: how long a cached answer is used without
    /// asking the userdb again. An older one is still used when the userdb cannot answer.
    public var authCacheTTL: Int = 3600
    /// `auth_cache_negative_ttl` (default 1 hour), in seconds: the same for "user unknown"
    /// answers; 0 does not cache them.
    public var authCacheNegativeTTL: Int = 3600
    /// `default_process_limit` (100) and `default_client_limit` (1000): what `service lmtp`'s
    /// `process_limit = 0` and `client_limit = 0` stand for.
    public var defaultProcessLimit: Int = 100
    public var defaultClientLimit: Int = 1000

    /// The most LMTP sessions served at once: `process_limit × client_limit` of `service lmtp`
    /// (each 0 meaning the `default_` setting), as Dovecot's process model allows (100 × 1).
    public var maximumLMTPSessions: Int {
        let processes = lmtpService.processLimit == 0 ? defaultProcessLimit : lmtpService.processLimit
        let clients = lmtpService.clientLimit == 0 ? defaultClientLimit : lmtpService.clientLimit
        let (product, overflow) = processes.multipliedReportingOverflow(by: clients)
        return overflow ? Int.max : product
    }
    /// The `namespace { }` blocks (only `separator`, `prefix` and `inbox` are read).
    public var namespaces: [NamespaceSettings] = []
    /// `login_trusted_networks` (empty): the networks whose LMTP clients may send `XCLIENT`
    /// (a proxy passing on the original client's address, port and hop count) and are offered
    /// it in the LHLO reply. Checked against the connection's real peer address.
    public var loginTrustedNetworks: [IPNetwork] = []

    /// Whether an LMTP client connecting from `peer` (its real address; `nil` on a unix socket,
    /// which is never trusted, as in Dovecot) is in `login_trusted_networks`.
    public func isTrustedClient(_ peer: String?) -> Bool {
        guard let peer else { return false }
        return loginTrustedNetworks.contains { $0.contains(peer) }
    }

    public init() {}

    /// The hierarchy separator of the namespace delivery stores into: the one with
    /// `inbox = yes`, else the one with an empty prefix; `nil` when none sets `separator`
    /// (the storage's own separator then applies: `.` for Maildir++).
    public var inboxNamespaceSeparator: Character? {
        let namespace = namespaces.first(where: \.inbox) ?? namespaces.first(where: { $0.prefix.isEmpty })
        return namespace?.separator.first
    }

    /// `lmtp_hdr_delivery_address` values.
    public enum DeliveryAddressHeader: String, Sendable, Equatable {
        case none, final, original
    }

    /// `mail_fsync` values.
    public enum FsyncMode: String, Sendable, Equatable {
        case optimized, always, never
    }
}

/// One `userdb { }` block, or one `passdb { }` block (read the same way; see
/// ``HomingSettings/passdbs``).
public struct UserdbSettings: Sendable, Equatable {
    /// `driver`: static, passwd-file, passwd, sql, ldap, ...
    public var driver: String
    /// `args`: driver specific, `%` variables unexpanded.
    public var args: String = ""
    /// `default_fields` and `override_fields`: `key=value` pairs, space separated, `%` variables unexpanded.
    public var defaultFields: String = ""
    public var overrideFields: String = ""
    /// `skip` (never | found | notfound; for a passdb never | authenticated | unauthenticated).
    public var skip: String = "never"
    /// `result_success` (return-ok), `result_failure` (continue), `result_internalfail` (continue).
    public var resultSuccess: String = "return-ok"
    public var resultFailure: String = "continue"
    public var resultInternalfail: String = "continue"
    /// passdb only: `deny` (no): a user this passdb finds is refused (the chain answers "not found").
    public var deny: Bool = false
    /// passdb only: `master` (no): a master-user passdb, used for master logins only and so never
    /// for the lookups Homing makes.
    public var master: Bool = false
    /// The optional name written after `userdb` (`userdb sqlusers { }`), nil when none.
    public var name: String? = nil
    /// Where the block starts, for error messages.
    public var location: ConfigLocation?
    /// The syntax of `args`, the field templates and the driver's templates (queries, filters).
    public var variableSyntax: VariableSyntax = .dovecot23
    /// Dovecot 2.4 only: the `mail_driver`, `mail_path`, `mail_inbox_path`, `mailbox_list_layout`...
    /// settings as written (already folded into ``mailLocation``), the defaults for a userdb that
    /// returns only some of them (see ``MailStorage24/normalisedFields(_:defaults:)``).
    public var mailStorage24: [String: String] = [:]
    /// Dovecot 2.4 only: the driver's settings from the main file, by their 2.4 names, for the
    /// `sql` and `ldap` drivers (which read a .conf.ext named by `args` in 2.3): the global ones
    /// (`sql_driver`, `pgsql/HOST/parameters/KEY`, `ldap_uris`, `ldap_base`...) followed by the
    /// block's own (`query`, `iterate_query`, `filter`, `iterate_filter`, `fields/NAME`,
    /// `iterate_fields/NAME`), later entries overriding earlier ones of the same key.
    public var driverSettings: [ExtConfigEntry] = []

    public init(driver: String, location: ConfigLocation? = nil) {
        self.driver = driver
        self.location = location
    }
}

/// One `namespace [name] { }` block, as far as delivery needs it.
public struct NamespaceSettings: Sendable, Equatable {
    /// The name written after `namespace`, nil when none.
    public var name: String?
    /// `separator`: the hierarchy separator of mailbox names (one character; empty for the
    /// storage's default).
    public var separator: String = ""
    /// `prefix` (empty by default).
    public var prefix: String = ""
    /// `inbox` (no): whether INBOX lives in this namespace.
    public var inbox: Bool = false
    /// Where the block starts.
    public var location: ConfigLocation?

    public init(name: String? = nil, location: ConfigLocation? = nil) {
        self.name = name
        self.location = location
    }
}

/// `service lmtp { }`'s listeners (also the listener set of another service, such as
/// `quota-status`).
public struct LMTPServiceSettings: Sendable, Equatable {
    public var unixListeners: [UnixListenerSettings] = [UnixListenerSettings(path: "lmtp")]
    public var inetListeners: [InetListenerSettings] = []
    /// `process_limit` (default 0: `default_process_limit`) and `client_limit` (default 1, as
    /// Dovecot's lmtp service; 0: `default_client_limit`).
    public var processLimit: Int = 0
    public var clientLimit: Int = 1

    public init() {}
}

/// A `service NAME { executable user group unix_listener... inet_listener... }` block other
/// than `service lmtp`, which Homing runs: Dovecot's `quota-status` and `script`.
public struct ServiceSettings: Sendable, Equatable {
    /// What a service is, from its `executable`.
    public enum Kind: Sendable, Equatable {
        /// `executable = quota-status -p postfix` (any path to a `quota-status`): Postfix's
        /// quota policy service, answered by `homing serve` on the service's listeners.
        case quotaStatus
        /// `executable = script /path/to/program [args]`: the program quota warnings run.
        case script(program: String, arguments: [String])
    }

    /// The name after `service`.
    public var name: String
    public var kind: Kind
    /// `user` and `group`: whom a script runs as (names or numbers; empty: the mail user).
    public var user: String = ""
    public var group: String = ""
    /// The service's sockets (for `quota-status`).
    public var listeners: LMTPServiceSettings = .init()
    public var location: ConfigLocation?

    public init(name: String, kind: Kind, location: ConfigLocation? = nil) {
        self.name = name
        self.kind = kind
        self.location = location
        listeners.unixListeners = []
    }
}

extension HomingSettings {
    /// The `quota-status` service, when one is configured.
    public var quotaStatusService: ServiceSettings? {
        services.first { $0.kind == .quotaStatus }
    }

    /// The service named `name`, when Homing runs one by that name.
    public func service(named name: String) -> ServiceSettings? {
        services.first { $0.name == name }
    }
}

/// `unix_listener PATH { user group mode }`. A relative path is inside `base_dir`.
public struct UnixListenerSettings: Sendable, Equatable {
    public var path: String
    public var user: String = ""
    public var group: String = ""
    /// `mode`, octal in the file (default 0666 as Dovecot's lmtp service).
    public var mode: UInt16 = 0o666
    public var location: ConfigLocation?

    public init(path: String, location: ConfigLocation? = nil) {
        self.path = path
        self.location = location
    }
}

/// `inet_listener NAME { address port }`. `address` is space/comma separated; `*` means all IPv4
/// addresses and `::` all IPv6 addresses. A listener without `address` gets the `listen` setting's
/// addresses (done by the loader). `port = 0` (the default) disables the listener, as in Dovecot.
public struct InetListenerSettings: Sendable, Equatable {
    public var name: String
    public var addresses: [String] = []
    public var port: Int = 0
    public var location: ConfigLocation?

    public init(name: String, location: ConfigLocation? = nil) {
        self.name = name
        self.location = location
    }
}
