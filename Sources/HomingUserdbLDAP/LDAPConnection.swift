import CLibLDAP
import Glibc

/// One libldap session: initialised from the settings, StartTLS when asked, bound, then used for
/// synchronous searches. Every call blocks its thread, so it runs on the driver's thread pool.
///
/// `@unchecked Sendable`: the `LDAP *` handle is only ever used by one thread at a time. The
/// connection pool hands a connection to exactly one job and takes it back when the job ends;
/// nothing else keeps a reference while it is leased.
final class LDAPConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Whether a search has succeeded on it (a reused connection may have been dropped by the
    /// server since; see ``LDAPOperationError/worthRetryingOnNewConnection``).
    private(set) var hasBeenUsed = false

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        close()
    }

    /// Connects to the first server of `settings.uris` that answers, starts TLS if asked, and
    /// binds (anonymously when there is no `dn`).
    static func open(_ settings: LDAPSettings, timeouts: LDAPTimeouts) throws(LDAPOperationError) -> LDAPConnection {
        let uriList = settings.uris.joined(separator: " ")
        var raw: OpaquePointer?
        let rc = ldap_initialize(&raw, uriList)
        guard rc == LDAP_SUCCESS, let raw else {
            throw LDAPOperationError(operation: "ldap_initialize(\(uriList))", code: rc, message: errorText(rc))
        }
        let connection = LDAPConnection(handle: raw)
        try connection.configure(settings, timeouts: timeouts)
        if settings.startTLS {
            let rc = ldap_start_tls_s(raw, nil, nil)
            guard rc == LDAP_SUCCESS else {
                throw connection.failure("StartTLS with \(uriList)", rc)
            }
        }
        try connection.bind(dn: settings.bindDN, password: settings.bindPassword, uris: uriList)
        return connection
    }

    private func configure(_ settings: LDAPSettings, timeouts: LDAPTimeouts) throws(LDAPOperationError) {
        try setInt(LDAP_OPT_PROTOCOL_VERSION, Int32(settings.ldapVersion), "protocol version")
        let deref: Int32
        switch settings.deref {
        case .never: deref = LDAP_DEREF_NEVER
        case .searching: deref = LDAP_DEREF_SEARCHING
        case .finding: deref = LDAP_DEREF_FINDING
        case .always: deref = LDAP_DEREF_ALWAYS
        }
        try setInt(LDAP_OPT_DEREF, deref, "deref")
        try setTime(LDAP_OPT_NETWORK_TIMEOUT, timeouts.connect, "network timeout")
        try setTime(LDAP_OPT_TIMEOUT, timeouts.request, "timeout")
        // LDAP_OPT_OFF is a null pointer: do not chase referrals with our credentials.
        let rc = ldap_set_option(handle, LDAP_OPT_REFERRALS, nil)
        guard rc == LDAP_OPT_SUCCESS else { throw failure("setting referrals off", rc) }

        var usesTLS = settings.startTLS || settings.uris.contains { $0.lowercased().hasPrefix("ldaps://") }
        for (option, value, name) in [
            (LDAP_OPT_X_TLS_CACERTFILE, settings.tlsCACertFile, "tls_ca_cert_file"),
            (LDAP_OPT_X_TLS_CACERTDIR, settings.tlsCACertDir, "tls_ca_cert_dir"),
            (LDAP_OPT_X_TLS_CERTFILE, settings.tlsCertFile, "tls_cert_file"),
            (LDAP_OPT_X_TLS_KEYFILE, settings.tlsKeyFile, "tls_key_file"),
            (LDAP_OPT_X_TLS_CIPHER_SUITE, settings.tlsCipherSuite, "tls_cipher_suite"),
        ] {
            guard let value else { continue }
            usesTLS = true
            let rc = ldap_set_option(handle, option, value)
            guard rc == LDAP_OPT_SUCCESS else { throw failure("setting \(name) to \(value)", rc) }
        }
        if let require = settings.tlsRequireCert {
            usesTLS = true
            let level: Int32
            switch require {
            case .never: level = LDAP_OPT_X_TLS_NEVER
            case .hard: level = LDAP_OPT_X_TLS_HARD
            case .demand: level = LDAP_OPT_X_TLS_DEMAND
            case .allow: level = LDAP_OPT_X_TLS_ALLOW
            case .try: level = LDAP_OPT_X_TLS_TRY
            }
            try setInt(LDAP_OPT_X_TLS_REQUIRE_CERT, level, "tls_require_cert")
        }
        if usesTLS {
            // Per-connection TLS options take effect in a new TLS context (client side: 0).
            try setInt(LDAP_OPT_X_TLS_NEWCTX, 0, "TLS context")
        }
    }

    private func bind(dn: String?, password: String?, uris: String) throws(LDAPOperationError) {
        let secret = Array((password ?? "").utf8)
        let rc = secret.withUnsafeBufferPointer { bytes -> Int32 in
            var credential = berval(
                bv_len: ber_len_t(bytes.count),
                bv_val: UnsafeMutablePointer(mutating: bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }))
            return ldap_sasl_bind_s(handle, dn ?? "", nil, &credential, nil, nil, nil)
        }
        guard rc == LDAP_SUCCESS else {
            if rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT {
                throw failure("connect to \(uris)", rc)
            }
            let who = dn.map { "bind as \($0)" } ?? "anonymous bind"
            throw failure("\(who) to \(uris)", rc)
        }
    }

    /// Searches and returns the entries. `sizeLimit` 0 means the server's own limit.
    /// A base that does not exist gives no entries (as Dovecot); a size limit reached gives the
    /// entries received so far plus `truncated`.
    func search(
        base: String, scope: LDAPSettings.Scope, filter: String, attributes: [String], sizeLimit: Int32,
        timeout seconds: Int
    ) throws(LDAPOperationError) -> (entries: [LDAPEntry], truncated: Bool) {
        let scopeValue: Int32
        switch scope {
        case .base: scopeValue = LDAP_SCOPE_BASE
        case .onelevel: scopeValue = LDAP_SCOPE_ONELEVEL
        case .subtree: scopeValue = LDAP_SCOPE_SUBTREE
        }
        let wanted = attributes.isEmpty ? ["1.1"] : attributes
        var cNames: [UnsafeMutablePointer<CChar>?] = wanted.map { strdup($0) }
        cNames.append(nil)
        defer { for pointer in cNames { free(pointer) } }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        var message: OpaquePointer?
        defer { if message != nil { ldap_msgfree(message) } }
        let rc = cNames.withUnsafeMutableBufferPointer { names in
            ldap_search_ext_s(handle, base, scopeValue, filter, names.baseAddress, 0, nil, nil, &timeout, sizeLimit, &message)
        }
        let operation = "ldap_search(base=\(base) filter=\(filter))"
        switch rc {
        case LDAP_SUCCESS, LDAP_SIZELIMIT_EXCEEDED:
            break
        case LDAP_NO_SUCH_OBJECT:
            hasBeenUsed = true
            return ([], false)
        default:
            throw failure(operation, rc)
        }
        var entries: [LDAPEntry] = []
        var entry = ldap_first_entry(handle, message)
        while let current = entry {
            entries.append(read(current))
            entry = ldap_next_entry(handle, current)
        }
        hasBeenUsed = true
        return (entries, rc == LDAP_SIZELIMIT_EXCEEDED)
    }

    private func read(_ entry: OpaquePointer) -> LDAPEntry {
        var dn = ""
        if let rawDN = ldap_get_dn(handle, entry) {
            dn = String(cString: rawDN)
            ldap_memfree(rawDN)
        }
        var attributes: [(name: String, values: [String])] = []
        var ber: OpaquePointer?
        var attribute = ldap_first_attribute(handle, entry, &ber)
        while let name = attribute {
            var values: [String] = []
            if let list = ldap_get_values_len(handle, entry, name) {
                var index = 0
                while let value = list[index] {
                    let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                    values.append(String(decoding: bytes, as: UTF8.self))
                    index += 1
                }
                ldap_value_free_len(list)
            }
            attributes.append((String(cString: name), values))
            ldap_memfree(name)
            attribute = ldap_next_attribute(handle, entry, ber)
        }
        if ber != nil { ber_free(ber, 0) }
        return LDAPEntry(dn: dn, attributes: attributes)
    }

    /// Unbinds and closes the socket. Safe to call twice.
    func close() {
        if let handle {
            _ = ldap_unbind_ext_s(handle, nil, nil)
        }
        handle = nil
    }

    // MARK: - Options and errors

    private func setInt(_ option: Int32, _ value: Int32, _ name: String) throws(LDAPOperationError) {
        var value = value
        let rc = ldap_set_option(handle, option, &value)
        guard rc == LDAP_OPT_SUCCESS else { throw failure("setting \(name)", rc) }
    }

    private func setTime(_ option: Int32, _ seconds: Int, _ name: String) throws(LDAPOperationError) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        let rc = ldap_set_option(handle, option, &value)
        guard rc == LDAP_OPT_SUCCESS else { throw failure("setting \(name)", rc) }
    }

    /// An error for `rc`, with the server's diagnostic message when libldap kept one.
    private func failure(_ operation: String, _ rc: Int32) -> LDAPOperationError {
        var text = Self.errorText(rc)
        var diagnostic: UnsafeMutablePointer<CChar>?
        if handle != nil, ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS,
            let diagnostic
        {
            let extra = String(cString: diagnostic)
            if !extra.isEmpty { text += " (\(extra))" }
            ldap_memfree(diagnostic)
        }
        return LDAPOperationError(operation: operation, code: rc, message: text)
    }

    static func errorText(_ rc: Int32) -> String {
        guard let text = ldap_err2string(rc) else { return "error \(rc)" }
        return String(cString: text)
    }
}
