#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension VariableExpander {
    /// Names Dovecot 2.4 defines for mail users, userdb lookups and deliveries; one the caller
    /// has no value for expands to the empty string (as a table entry without a value does).
    public static let knownNames24: Set<String> = [
        "user", "service", "protocol", "home", "local_ip", "remote_ip", "local_port", "remote_port", "session",
        "auth_user", "hostname", "local_name", "owner_user", "owner_home", "master_user", "original_user",
        "client_pid", "password", "id", "mechanism", "secured", "cert", "login_user", "real_local_ip",
        "real_remote_ip", "real_local_port", "real_remote_port", "domain_first", "domain_last", "session_pid",
        "client_id", "ssl_ja3_hash",
    ]

    /// 2.3 long names that 2.4 dropped, with the 2.4 way to write them.
    public static let obsoleteLongNames: [String: String] = [
        "username": "%{user | username}", "domain": "%{user | domain}",
        "orig_user": "%{original_user}", "orig_username": "%{original_user | username}",
        "orig_domain": "%{original_user | domain}", "auth_username": "%{auth_user | username}",
        "auth_domain": "%{auth_user | domain}", "lip": "%{local_ip}", "rip": "%{remote_ip}",
        "lport": "%{local_port}", "rport": "%{remote_port}", "mech": "%{mechanism}",
        "real_lip": "%{real_local_ip}", "real_rip": "%{real_remote_ip}", "real_lport": "%{real_local_port}",
        "real_rport": "%{real_remote_port}", "pid": "%{process:pid}", "uid": "%{process:uid}",
        "gid": "%{process:gid}", "userdb_mail": "%{userdb:mail}",
    ]

    /// Expands a Dovecot 2.4 template.
    func expand24(_ template: String, escape: (String) -> String) throws(VariableExpansionError) -> String {
        let program = try Dovecot24Program.parse(template)
        return try evaluator24().run(program, escape: escape)
    }

    func evaluator24() -> Dovecot24Evaluator {
        let values = self.values
        let providers = self.providers
        return Dovecot24Evaluator(
            lookUpVariable: { name in
                typealias Failure = Dovecot24Evaluator.Failure
                if Self.obsoleteLongNames[name] == nil, let value = values[name] {
                    return .success(value)
                }
                switch name {
                case "original_user", "auth_user", "owner_user":
                    if let user = values["user"] { return .success(user) }
                case "protocol":
                    if let service = values["service"] { return .success(service) }
                case "owner_home":
                    if let home = values["home"] { return .success(home) }
                default:
                    break
                }
                if Self.knownNames24.contains(name) { return .success("") }
                return .failure(Failure("Unknown variable '\(name)'"))
            },
            lookUpProvider: { prefix, key in
                typealias Failure = Dovecot24Evaluator.Failure
                if let builtIn = Self.builtInProvider24(prefix, key) { return builtIn }
                guard let provider = providers[prefix] else { return .failure(Failure("Unsupported prefix '\(prefix)'")) }
                guard let value = provider(key), !value.isEmpty else { return .failure(Failure("No such field '\(key)'")) }
                return .success(value)
            })
    }

    /// Dovecot 2.4's global providers: `env`, `process`, `system`, `dovecot`, `date`, `time`,
    /// `generate`; nil for any other prefix.
    static func builtInProvider24(_ prefix: String, _ key: String) -> Result<String, Dovecot24Evaluator.Failure>? {
        typealias Failure = Dovecot24Evaluator.Failure
        switch prefix {
        case "env":
            guard !key.isEmpty else { return .failure(Failure("Missing field")) }
            return .success(getenv(key).map { String(cString: $0) } ?? "")
        case "process":
            switch key {
            case "pid": return .success(String(getpid()))
            case "uid": return .success(String(geteuid()))
            case "gid": return .success(String(getegid()))
            default: return .failure(Failure("Unsupported field '\(key)'"))
            }
        case "system":
            switch key {
            case "hostname": return .success(processValues()["hostname"] ?? "")
            case "cpu_count":
                if let count = getenv("NCPU") { return .success(String(cString: count)) }
                return .success(String(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            case "os", "os-version":
                var names = utsname()
                guard uname(&names) == 0 else { return .failure(Failure("uname() failed")) }
                let field = key == "os" ? names.sysname : names.release
                let text = withUnsafeBytes(of: field) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                return .success(text)
            default: return .failure(Failure("Unsupported field '\(key)'"))
            }
        case "dovecot":
            switch key {
            case "name": return .success("Homing")
            case "version": return .success("2.4")
            case "support-url": return .success("")
            case "support-email": return .success("")
            case "revision": return .success("")
            default: return .failure(Failure("Unsupported field '\(key)'"))
            }
        case "date", "time":
            var now = time(nil)
            var fields = tm()
            localtime_r(&now, &fields)
            let value: Int32
            switch (prefix, key) {
            case ("date", "year"): value = fields.tm_year + 1900
            case ("date", "month"): value = fields.tm_mon + 1
            case ("date", "day"): value = fields.tm_mday
            case ("time", "hour"): value = fields.tm_hour
            case ("time", "min"), ("time", "minute"): value = fields.tm_min
            case ("time", "sec"), ("time", "second"): value = fields.tm_sec
            default: return .failure(Failure("Unsupported key '\(key)'"))
            }
            let width = key == "year" ? 4 : 2
            let digits = String(value)
            return .success(String(repeating: "0", count: max(0, width - digits.count)) + digits)
        case "generate":
            var bytes = [UInt8](repeating: 0, count: 16)
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
            switch key {
            case "guid128": return .success(Dovecot24Evaluator.hex(bytes))
            case "uuid", "uuid:record", "uuid:compact", "uuid:microsoft":
                bytes[6] = (bytes[6] & 0x0F) | 0x40
                bytes[8] = (bytes[8] & 0x3F) | 0x80
                let hex = Array(Dovecot24Evaluator.hex(bytes))
                if key == "uuid:compact" { return .success(String(hex)) }
                let record = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
                return .success(key == "uuid:microsoft" ? "{\(record)}" : record)
            default: return .failure(Failure("Unsupported key '\(key)'"))
            }
        default:
            return nil
        }
    }
}
