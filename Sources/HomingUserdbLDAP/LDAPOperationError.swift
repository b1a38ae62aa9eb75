import CLibLDAP

/// Why a connection, bind or search failed, with libldap's result code and text.
public struct LDAPOperationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done (`connect to ldap://...`, `bind as cn=...`, `search base=... filter=...`).
    public var operation: String
    /// libldap's result code (negative for client-side errors such as `LDAP_SERVER_DOWN`).
    public var code: Int32
    /// libldap's text for the code, plus the server's diagnostic message when there is one.
    public var message: String

    public init(operation: String, code: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    public var description: String { "\(operation) failed: \(message)" }

    /// Whether the connection is still usable afterwards. Errors that concern only the request
    /// (a bad filter, a missing base, a limit) keep it; anything else (server down, timeout,
    /// refused bind, protocol trouble) means the connection is dropped and opened again.
    var keepsConnection: Bool {
        switch code {
        case LDAP_FILTER_ERROR, LDAP_PARAM_ERROR, LDAP_INVALID_DN_SYNTAX, LDAP_INVALID_SYNTAX, LDAP_UNDEFINED_TYPE,
            LDAP_INAPPROPRIATE_MATCHING, LDAP_SIZELIMIT_EXCEEDED, LDAP_TIMELIMIT_EXCEEDED, LDAP_ADMINLIMIT_EXCEEDED,
            LDAP_ALIAS_PROBLEM, LDAP_ALIAS_DEREF_PROBLEM, LDAP_NO_SUCH_ATTRIBUTE, LDAP_INSUFFICIENT_ACCESS,
            LDAP_NO_SUCH_OBJECT:
            return true
        default:
            return false
        }
    }

    /// Whether a fresh connection may succeed where a reused one failed (the server dropped an
    /// idle connection). Not for timeouts: retrying would double the wait.
    var worthRetryingOnNewConnection: Bool {
        !keepsConnection && code != LDAP_TIMEOUT && code != LDAP_INVALID_CREDENTIALS
    }
}
