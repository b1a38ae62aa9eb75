import HomingConfig
import HomingUserdb

/// The `%` variables a query can use: `%u %n %d %s %l %r` (long names `user`, `username`,
/// `domain`, `service`, `local_ip`/`lip`, `remote_ip`/`rip`), `%{orig_user}` and friends (the
/// same values: Homing applies `auth_username_format` before the userdb), `%h` (empty: no home
/// is known before the lookup), `%p`/`%{pid}` and `%{hostname}`.
enum SQLUserdbVariables {
    private static let processValues = VariableExpander.processValues()

    /// An expander for one request.
    static func expander(for request: UserdbRequest) -> VariableExpander {
        var values = processValues
        values["user"] = request.user
        values["username"] = request.username
        values["domain"] = request.domain
        values["orig_user"] = request.user
        values["orig_username"] = request.username
        values["orig_domain"] = request.domain
        values["service"] = request.service
        values["local_ip"] = request.localIP ?? ""
        values["remote_ip"] = request.remoteIP ?? ""
        values["lip"] = request.localIP ?? ""
        values["rip"] = request.remoteIP ?? ""
        values["home"] = ""
        return VariableExpander(values: values)
    }

    /// Whether a request holds a value no database row can match and that must never reach
    /// libpq (a NUL byte would cut the C string short and match a different user).
    static func isUnmatchable(_ request: UserdbRequest) -> Bool {
        request.user.utf8.contains(0) || request.service.utf8.contains(0)
            || (request.localIP?.utf8.contains(0) ?? false) || (request.remoteIP?.utf8.contains(0) ?? false)
    }
}
