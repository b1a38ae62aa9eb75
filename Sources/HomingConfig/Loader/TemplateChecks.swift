/// Load-time checks of `%` templates: an unknown variable, a syntax error or (in a 2.4 file) a
/// 2.3 variable is an error at the setting's line, before any mail arrives.
enum TemplateChecks {
    /// Where a template is used, which decides the variables it may name.
    enum Context: Sendable {
        /// mail_location / mail_path, Sieve paths, postmaster_address: the mail user's variables.
        case mail
        /// auth_username_format and userdb templates: the auth request's variables.
        case userdb
        /// deliver_log_format: the delivery's variables.
        case deliveryLog
    }

    /// 2.4 variables of a delivery log line.
    static let deliveryNames24: Set<String> = [
        "message", "msgid", "subject", "from", "from_envelope", "size", "vsize", "delivery_time", "session_time",
        "to_envelope", "storage_id",
    ]

    /// Providers a 2.4 template may use in each context (besides the global ones).
    static func providers24(_ context: Context) -> Set<String> {
        let global: Set<String> = ["env", "process", "system", "dovecot", "date", "time", "generate", "event"]
        switch context {
        case .mail, .deliveryLog: return global.union(["userdb"])
        case .userdb: return global.union(["userdb", "passdb", "ldap", "ldap_multi", "sql", "passwd_file", "static"])
        }
    }

    /// The problems of `template` (empty when it is fine), each in words for an administrator.
    static func problems(in template: String, syntax: VariableSyntax, context: Context) -> [String] {
        switch syntax {
        case .dovecot23: return problems23(template, context: context)
        case .dovecot24: return problems24(template, context: context)
        }
    }

    // MARK: - 2.4

    private static func problems24(_ template: String, context: Context) -> [String] {
        var result = Dovecot23Syntax.obsoleteVariables(in: template, context: context).map(\.description)
        let program: Dovecot24Program
        do {
            program = try Dovecot24Program.parse(template)
        } catch {
            return result + ["\(error)"]
        }
        var known = VariableExpander.knownNames24
        if context == .deliveryLog { known.formUnion(deliveryNames24) }
        let providers = providers24(context)
        for piece in program.pieces {
            guard case .pipeline(let statements, let position) = piece else { continue }
            for (index, statement) in statements.enumerated() where index > 0 {
                if !Dovecot24Evaluator.isFunction(statement.function) {
                    result.append("no such filter '\(statement.function)' at position \(position)")
                }
            }
        }
        for reference in program.variableReferences {
            let name = reference.name
            if let colon = name.firstIndex(of: ":") {
                let prefix = String(name[..<colon])
                if !providers.contains(prefix) {
                    result.append("unknown variable provider '\(prefix):' in %{\(name)} at position \(reference.position)")
                }
                continue
            }
            if known.contains(name) { continue }
            if let replacement = VariableExpander.obsoleteLongNames[name] {
                result.append(VariableExpansionError.obsoleteVariable(
                    written: "%{\(name)}", replacement: replacement, position: reference.position).description)
                continue
            }
            if reference.isFirst, Dovecot24Evaluator.isFunction(name) { continue }
            result.append("unknown variable '\(name)' at position \(reference.position)")
        }
        var seen: Set<String> = []
        return result.filter { seen.insert($0).inserted }
    }

    // MARK: - 2.3

    private static func problems23(_ template: String, context: Context) -> [String] {
        guard context != .deliveryLog else { return [] }
        var values: [String: String] = [:]
        for name in VariableExpander.knownLongNames { values[name] = "x" }
        for name in ["lip", "rip", "orig_user", "orig_username", "orig_domain"] { values[name] = "x" }
        let sample: @Sendable (String) -> String? = { _ in "x" }
        let expander = VariableExpander(values: values, providers: ["userdb": sample], syntax: .dovecot23)
        do {
            _ = try expander.expand(template)
            return []
        } catch {
            return ["\(error)"]
        }
    }

    /// Checks the templates of a 2.3 file: mail_location, auth_username_format and the Sieve
    /// paths of `plugin { }` (userdb templates are checked when their drivers start).
    static func check(_ settings: HomingSettings, raw: RawConfiguration, diagnostics: inout ConfigDiagnostics) {
        let checked: [(String, Context)] = [("mail_location", .mail), ("auth_username_format", .userdb)]
        for assignment in raw.global + raw.lmtpFilter {
            guard let context = checked.first(where: { $0.0 == assignment.key })?.1 else { continue }
            for problem in problems(in: assignment.value, syntax: settings.variableSyntax, context: context) {
                diagnostics.error("\(assignment.key): \(problem)", at: assignment.location)
            }
        }
        for assignment in raw.globalPlugin + raw.lmtpPlugin where sievePathSetting(assignment.key) {
            for problem in problems(in: assignment.value, syntax: settings.variableSyntax, context: .mail) {
                diagnostics.error("\(assignment.key): \(problem)", at: assignment.location)
            }
        }
    }

    /// The Sieve settings whose values are paths with variables.
    static func sievePathSetting(_ key: String) -> Bool {
        ["sieve", "sieve_dir", "sieve_global", "sieve_global_dir", "sieve_default", "sieve_user_log"].contains(key)
            || key.hasPrefix("sieve_before") || key.hasPrefix("sieve_after")
    }
}
