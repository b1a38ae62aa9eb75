import HomingConfig
import HomingUserdb

/// The `%` variables of one LDAP lookup: `%u %n %d %s %l %r` from the request, plus the
/// process-wide `%p` and `%{hostname}`.
struct LDAPVariables: Sendable {
    var values: [String: String]

    init(request: UserdbRequest, process: [String: String]) {
        var values = process
        values.merge(
            VariableExpander.userValues(
                user: request.user, service: request.service,
                extra: [
                    "local_ip": request.localIP ?? "", "remote_ip": request.remoteIP ?? "",
                    "lip": request.localIP ?? "", "rip": request.remoteIP ?? "", "home": "",
                ])
        ) { _, new in new }
        self.values = values
    }

    /// Values used to check templates at start.
    static let sample = LDAPVariables(
        request: UserdbRequest(user: "user@example.com", localIP: "127.0.0.1", remoteIP: "127.0.0.1"),
        process: ["pid": "1", "hostname": "localhost"])

    /// An expander over these values; `ldap` answers `%{ldap:attr}` (nil: not there).
    func expander(ldap: (@Sendable (String) -> String?)? = nil) -> VariableExpander {
        var providers: [String: @Sendable (String) -> String?] = [:]
        providers["ldap"] = ldap ?? { _ in "sample" }
        return VariableExpander(values: values, providers: providers)
    }

    /// Replaces the user (after a `user` field), updating `%n` and `%d`.
    mutating func setUser(_ user: String) {
        values.merge(VariableExpander.userValues(user: user, service: values["service"] ?? "lmtp")) { _, new in new }
    }
}
