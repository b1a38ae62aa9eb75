/// Reads a dovecot.conf tree (the file and everything it includes) into a ``RawConfiguration``,
/// following sections and collecting a warning for each setting or section Homing ignores.
struct ConfigTreeReader {
    /// Where statements currently land.
    private enum Context {
        case root
        case lmtpFilter
        case plugin(inLMTPFilter: Bool)
        case userdb(index: Int, inLMTPFilter: Bool)
        /// `passdb [name] { }`: read like a userdb block (see ``RawConfiguration/passdbs``).
        case passdb(index: Int, inLMTPFilter: Bool)
        case namespace(index: Int, inLMTPFilter: Bool)
        case serviceLMTP
        case unixListener(index: Int)
        case inetListener(index: Int)
        /// `service stats { }`: only its `inet_listener`s (the metrics export) are read.
        case serviceStats
        case statsInetListener(index: Int)
        /// `service NAME { }` other than lmtp and stats, and its listeners.
        case service(index: Int)
        case serviceUnixListener(service: Int, index: Int)
        case serviceInetListener(service: Int, index: Int)
        /// Contents read for syntax only (an ignored section).
        case ignored(inLMTPFilter: Bool)

        var inLMTPFilter: Bool {
            switch self {
            case .lmtpFilter: return true
            case .plugin(let filter), .userdb(_, let filter), .passdb(_, let filter), .namespace(_, let filter),
                .ignored(let filter):
                return filter
            case .root, .serviceLMTP, .unixListener, .inetListener, .serviceStats, .statsInetListener, .service,
                .serviceUnixListener, .serviceInetListener:
                return false
            }
        }
    }

    private struct OpenSection {
        var context: Context
        var title: String
        var location: ConfigLocation
    }

    private(set) var raw = RawConfiguration()
    private(set) var warnings: [ConfigWarning] = []
    /// Every error found so far (reading goes on after one).
    private(set) var diagnostics = ConfigDiagnostics()
    private var warned: Set<String> = []
    private var stack: [OpenSection] = []
    private var includeStack: [String] = []

    /// - Parameter protocolName: whose `protocol NAME { }` filter applies (`lmtp`, or `lda`
    ///   for `homing deliver`).
    init(protocolName: String = "lmtp") {
        raw.unixListeners = [RawConfiguration.Listener(name: "lmtp", location: ConfigLocation(file: "(default)", line: 0))]
        raw.protocolName = protocolName
    }

    /// Applies `-o key=value` overrides after the files: each is set as if written last inside
    /// the protocol filter, so it wins over the global value and the filter's own
    /// (`plugin/key` sets a `plugin { }` setting).
    mutating func applyOverrides(_ overrides: [(key: String, value: String)]) {
        let location = ConfigLocation(file: "(-o)", line: 0)
        push(.lmtpFilter, "-o", at: location)
        defer { stack.removeLast() }
        for (key, value) in overrides {
            do {
                try assign(key: key, value: value, at: location)
            } catch {
                diagnostics.error(error)
            }
        }
    }

    // MARK: - Files

    /// Reads the file at `path` as the top of the tree.
    mutating func read(path: String) throws(ConfigError) {
        let text: String
        do {
            text = try ConfigFileAccess.readText(at: path)
        } catch {
            guard case .system(let reason) = error else { return }
            throw ConfigError("can't read configuration file \(path): \(reason)")
        }
        read(text: text, file: path, directory: ConfigFileAccess.directory(of: path))
        try finish()
    }

    /// Reads `text` as the top of the tree, as if it were `file` in `directory`.
    mutating func read(text: String, file: String, directory: String) {
        raw.files.append(file)
        includeStack.append(ConfigFileAccess.canonicalPath(file))
        defer { includeStack.removeLast() }
        let lexed = ConfigLexer(flavor: .main).lex(text, file: file)
        warnings += lexed.warnings
        for error in lexed.errors { diagnostics.error(error) }
        for statement in lexed.statements {
            do {
                try handle(statement, directory: directory)
            } catch {
                diagnostics.error(error)
            }
        }
    }

    /// Checks that every section was closed.
    mutating func finish() throws(ConfigError) {
        if let open = stack.last {
            diagnostics.error("section '\(open.title)' is not closed (missing '}')", at: open.location)
        }
    }

    private mutating func include(_ pattern: String, optional: Bool, directory: String, at location: ConfigLocation) throws(ConfigError) {
        let files = try IncludeExpansion.files(
            for: pattern, optional: optional, directory: directory, reading: includeStack, at: location)
        for file in files {
            read(text: file.text, file: file.path, directory: ConfigFileAccess.directory(of: file.path))
        }
    }

    // MARK: - Statements

    private var context: Context { stack.last?.context ?? .root }

    private mutating func handle(_ statement: ConfigStatement, directory: String) throws(ConfigError) {
        let location = statement.location
        switch statement.kind {
        case .include(let pattern, let optional):
            try include(pattern, optional: optional, directory: directory, at: location)
        case .sectionEnd:
            guard let closed = stack.popLast() else { throw ConfigError("unexpected '}' (no section is open)", at: location) }
            if case .service(let index) = closed.context { serviceClosed(index) }
        case .sectionStart(let type, let name):
            let depth = stack.count
            do {
                try openSection(type: type, name: name, at: location)
            } catch {
                // Read the section's contents for syntax only, so that its `}` closes it.
                if stack.count == depth { push(.ignored(inLMTPFilter: context.inLMTPFilter), type, at: location) }
                throw error
            }
        case .setting(let key, let value, let quoted):
            let resolved = quoted ? value : try resolveReferences(in: value, key: key, at: location)
            try assign(key: key, value: resolved, at: location)
        case .settingFromFile(let key, let path):
            guard uses(key) else {
                // Like an ignored setting: warned about, but its file is not read (it may be
                // readable only by the server Homing replaces, such as an SSL key).
                try assign(key: key, value: "", at: location)
                return
            }
            let full = ConfigFileAccess.resolve(path, relativeTo: directory)
            var text: String
            do {
                text = try ConfigFileAccess.readText(at: full)
            } catch {
                guard case .system(let reason) = error else { return }
                throw ConfigError("\(key): can't read <\(path): \(reason)", at: location)
            }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            try assign(key: key, value: text, at: location)
        }
    }

    /// Replaces each word `$name` by the current value of setting `name`.
    private func resolveReferences(in value: String, key: String, at location: ConfigLocation) throws(ConfigError) -> String {
        guard value.contains("$") else { return value }
        var words: [String] = []
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            guard word.hasPrefix("$"), word.count > 1,
                  word.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else {
                words.append(String(word))
                continue
            }
            let name = String(word.dropFirst())
            guard let current = raw.currentValue(of: name, inLMTPFilter: context.inLMTPFilter) else {
                throw ConfigError("\(key): $\(name) refers to an unknown or unset setting (quote the value to use a literal $)", at: location)
            }
            words.append(current)
        }
        return words.joined(separator: " ").trimmingBlanks()
    }

    private mutating func warnOnce(_ key: String, _ message: String, at location: ConfigLocation) {
        guard warned.insert(key).inserted else { return }
        warnings.append(ConfigWarning(message, at: location))
    }

    private mutating func push(_ context: Context, _ title: String, at location: ConfigLocation) {
        stack.append(OpenSection(context: context, title: title, location: location))
    }

    private mutating func openSection(type: String, name: String?, at location: ConfigLocation) throws(ConfigError) {
        let title = name.map { "\(type) \($0)" } ?? type
        if type == "(bad line)" {
            push(.ignored(inLMTPFilter: context.inLMTPFilter), title, at: location)
            return
        }
        if let newer = Dovecot24Names.sections[type], !isIgnored {
            throw ConfigError("\(type) { } is Dovecot 2.4 syntax, which a 2.3 file cannot use: \(newer)", at: location)
        }
        switch context {
        case .ignored(let filter):
            push(.ignored(inLMTPFilter: filter), title, at: location)
        case .root, .lmtpFilter:
            let inFilter = context.inLMTPFilter
            switch type {
            case "protocol":
                guard let name, !name.isEmpty else {
                    throw ConfigError("protocol { } needs a protocol name (protocol lmtp {)", at: location)
                }
                guard !inFilter else {
                    throw ConfigError("protocol \(name) { } can't be inside another protocol { } section", at: location)
                }
                let own = raw.protocolName
                let applies = name == own || (name.hasPrefix("!") && name != "!" + own)
                if applies {
                    push(.lmtpFilter, title, at: location)
                } else {
                    // `protocol lda { }` is homing deliver's, `protocol lmtp { }` the server's.
                    if !["lmtp", "lda"].contains(name) {
                        warnOnce("protocol \(name)", "protocol \(name) { } is not used by Homing (ignored)", at: location)
                    }
                    push(.ignored(inLMTPFilter: false), title, at: location)
                }
            case "userdb":
                raw.userdbs.append(RawConfiguration.Userdb(name: name, location: location))
                push(.userdb(index: raw.userdbs.count - 1, inLMTPFilter: inFilter), title, at: location)
            case "passdb":
                raw.passdbs.append(RawConfiguration.Userdb(name: name, location: location))
                push(.passdb(index: raw.passdbs.count - 1, inLMTPFilter: inFilter), title, at: location)
            case "plugin":
                push(.plugin(inLMTPFilter: inFilter), title, at: location)
            case "namespace":
                // Only the hierarchy separator matters to delivery (Sieve's fileinto names).
                if let name, let index = raw.namespaces.firstIndex(where: { $0.name == name }) {
                    push(.namespace(index: index, inLMTPFilter: inFilter), title, at: location)
                } else {
                    raw.namespaces.append(RawConfiguration.Namespace(name: name, location: location))
                    push(.namespace(index: raw.namespaces.count - 1, inLMTPFilter: inFilter), title, at: location)
                }
            case "service" where !inFilter:
                guard let name, !name.isEmpty else {
                    throw ConfigError("service { } needs a service name (service lmtp {)", at: location)
                }
                if name == "lmtp" {
                    push(.serviceLMTP, title, at: location)
                } else if name == "stats" {
                    push(.serviceStats, title, at: location)
                } else {
                    // Read whole; whether Homing runs it is known at its `}` (its executable).
                    raw.services.append(RawConfiguration.Service(name: name, location: location))
                    push(.service(index: raw.services.count - 1), title, at: location)
                }
            default:
                warnOnce("section \(type)", "\(type) { } sections are not used by Homing (ignored)", at: location)
                push(.ignored(inLMTPFilter: inFilter), title, at: location)
            }
        case .serviceLMTP:
            switch type {
            case "unix_listener":
                guard let name, !name.isEmpty else {
                    throw ConfigError("unix_listener { } needs a socket path (unix_listener /path/to/socket {)", at: location)
                }
                // Dovecot merges listeners by name: "the UNIX listener on $base_dir/lmtp is enabled by
                // default" (Dovecot's LMTP documentation), so the built-in `unix_listener lmtp` stays
                // next to configured ones; a block with the same path changes it instead.
                if let index = raw.unixListeners.firstIndex(where: { $0.name == name }) {
                    if raw.unixListeners[index].location.line == 0 { raw.unixListeners[index].location = location }
                    push(.unixListener(index: index), title, at: location)
                } else {
                    raw.unixListeners.append(RawConfiguration.Listener(name: name, location: location))
                    push(.unixListener(index: raw.unixListeners.count - 1), title, at: location)
                }
            case "inet_listener":
                guard let name, !name.isEmpty else {
                    throw ConfigError("inet_listener { } needs a name (inet_listener lmtp {)", at: location)
                }
                if let index = raw.inetListeners.firstIndex(where: { $0.name == name }) {
                    push(.inetListener(index: index), title, at: location)
                } else {
                    raw.inetListeners.append(RawConfiguration.Listener(name: name, location: location))
                    push(.inetListener(index: raw.inetListeners.count - 1), title, at: location)
                }
            default:
                warnOnce("service lmtp \(type)", "service lmtp: \(type) { } is not used by Homing (ignored)", at: location)
                push(.ignored(inLMTPFilter: false), title, at: location)
            }
        case .service(let service):
            guard type == "unix_listener" || type == "inet_listener" else {
                push(.ignored(inLMTPFilter: false), title, at: location)
                return
            }
            // Dovecot's quota-status example has an `inet_listener { }` without a name.
            let unnamed = type == "inet_listener" ? "inet_listener \(raw.services[service].inetListeners.count + 1)" : nil
            guard let name = (name?.isEmpty == false ? name : nil) ?? unnamed else {
                throw ConfigError("unix_listener { } needs a socket path (unix_listener /path/to/socket {)", at: location)
            }
            let listener = RawConfiguration.Listener(name: name, location: location)
            if type == "unix_listener" {
                raw.services[service].unixListeners.append(listener)
                push(.serviceUnixListener(service: service, index: raw.services[service].unixListeners.count - 1), title, at: location)
            } else {
                raw.services[service].inetListeners.append(listener)
                push(.serviceInetListener(service: service, index: raw.services[service].inetListeners.count - 1), title, at: location)
            }
        case .serviceUnixListener, .serviceInetListener:
            throw ConfigError("\(type) { } can't be inside a listener section", at: location)
        case .plugin(let filter), .userdb(_, let filter), .passdb(_, let filter), .namespace(_, let filter):
            warnOnce("\(stack.last?.title ?? "") \(type)", "\(type) { } inside \(stack.last?.title ?? "") { } is not used by Homing (ignored)", at: location)
            push(.ignored(inLMTPFilter: filter), title, at: location)
        case .serviceStats:
            if type == "inet_listener", let name, !name.isEmpty {
                if let index = raw.statsInetListeners.firstIndex(where: { $0.name == name }) {
                    push(.statsInetListener(index: index), title, at: location)
                } else {
                    raw.statsInetListeners.append(RawConfiguration.Listener(name: name, location: location))
                    push(.statsInetListener(index: raw.statsInetListeners.count - 1), title, at: location)
                }
            } else {
                warnOnce("service stats \(type)", "service stats: \(type) { } is not used by Homing (ignored)", at: location)
                push(.ignored(inLMTPFilter: false), title, at: location)
            }
        case .unixListener, .inetListener, .statsInetListener:
            throw ConfigError("\(type) { } can't be inside a listener section", at: location)
        }
    }

    /// Whether a setting `key` in the current section is acted on.
    private func uses(_ key: String) -> Bool {
        switch context {
        case .ignored, .serviceStats: return false
        case .serviceLMTP: return ["process_limit", "client_limit"].contains(key)
        case .root, .lmtpFilter: return SettingDefinitions.all[key] != nil || key.hasPrefix("plugin/")
        case .plugin: return true
        case .userdb: return Self.userdbKeys.contains(key)
        case .passdb: return Self.passdbKeys.contains(key)
        case .unixListener, .serviceUnixListener: return ["user", "group", "mode"].contains(key)
        case .inetListener, .statsInetListener, .serviceInetListener: return ["address", "port"].contains(key)
        case .namespace: return Self.namespaceKeys.contains(key)
        case .service: return Self.serviceKeys.contains(key)
        }
    }

    /// The settings of a `service { }` block Homing runs.
    static let serviceKeys: Set<String> = ["executable", "user", "group"]

    /// A `service NAME { }` block ended: one warning when Homing does not run it (the block is
    /// kept for the printer), else one per setting it does not use.
    private mutating func serviceClosed(_ index: Int) {
        let service = raw.services[index]
        guard SettingsBuilder.runsService(service) else {
            warnOnce("service \(service.name)", "service \(service.name) { } is not used by Homing (ignored)", at: service.location)
            return
        }
        for assignment in service.assignments where !Self.serviceKeys.contains(assignment.key) {
            warnOnce(
                "service \(service.name) \(assignment.key)",
                "service \(service.name) { \(assignment.key) } is not used by Homing (ignored)", at: assignment.location)
        }
        let listenerKeys: [([RawConfiguration.Listener], String, Set<String>)] = [
            (service.unixListeners, "unix_listener", ["user", "group", "mode"]),
            (service.inetListeners, "inet_listener", ["address", "port"]),
        ]
        for (listeners, kind, used) in listenerKeys {
            for listener in listeners {
                for assignment in listener.assignments where !used.contains(assignment.key) {
                    warnOnce("\(kind) \(assignment.key)", "\(kind) { \(assignment.key) } is not used by Homing (ignored)",
                             at: assignment.location)
                }
            }
        }
    }

    private static let namespaceKeys: Set<String> = ["separator", "prefix", "inbox"]

    private static let userdbKeys: Set<String> = [
        "driver", "args", "default_fields", "override_fields", "skip", "result_success", "result_failure", "result_internalfail",
    ]

    /// A passdb block's settings: a userdb block's, and `deny` and `master` (see
    /// ``UserdbSettings/deny``). `pass`, `mechanisms`, `username_filter`... are about
    /// authentication, which Homing does not do: warned about and ignored.
    private static let passdbKeys: Set<String> = userdbKeys.union(["deny", "master"])

    /// Inside a `userdb { }` or `passdb { }` block.
    private var inDriverBlock: Bool {
        switch context {
        case .userdb, .passdb: return true
        default: return false
        }
    }

    private var inPassdb: Bool {
        if case .passdb = context { return true }
        return false
    }

    private var isIgnored: Bool {
        if case .ignored = context { return true }
        return false
    }

    private mutating func assign(key: String, value: String, at location: ConfigLocation) throws(ConfigError) {
        let assignment = RawConfiguration.Assignment(key: key, value: value, location: location)
        raw.located.append(RawConfiguration.Located(section: stack.map(\.title), key: key, location: location))
        if !isIgnored, let older = Dovecot24Names.settingsIn23File(key, inUserdb: inDriverBlock, inPassdb: inPassdb) {
            throw ConfigError(older, at: location)
        }
        switch context {
        case .ignored:
            return
        case .root, .lmtpFilter:
            let inFilter = context.inLMTPFilter
            if key.hasPrefix("plugin/"), key.count > "plugin/".count {
                let pluginKey = RawConfiguration.Assignment(key: String(key.dropFirst("plugin/".count)), value: value, location: location)
                if inFilter { raw.lmtpPlugin.append(pluginKey) } else { raw.globalPlugin.append(pluginKey) }
                return
            }
            if inFilter { raw.lmtpFilter.append(assignment) } else { raw.global.append(assignment) }
            if SettingDefinitions.all[key] == nil {
                warnOnce(key, "\(key) is not used by Homing (ignored)", at: location)
            }
        case .plugin(let filter):
            if filter { raw.lmtpPlugin.append(assignment) } else { raw.globalPlugin.append(assignment) }
        case .userdb(let index, _):
            raw.userdbs[index].assignments.append(assignment)
            if !Self.userdbKeys.contains(key) {
                warnOnce("userdb \(key)", "userdb { \(key) } is not used by Homing (ignored)", at: location)
            }
        case .passdb(let index, _):
            raw.passdbs[index].assignments.append(assignment)
            if !Self.passdbKeys.contains(key) {
                warnOnce("passdb \(key)", "passdb { \(key) } is not used by Homing (ignored)", at: location)
            }
        case .namespace(let index, _):
            raw.namespaces[index].assignments.append(assignment)
            if !Self.namespaceKeys.contains(key) {
                warnOnce("namespace \(key)", "namespace { \(key) } is not used by Homing (ignored)", at: location)
            }
        case .serviceLMTP:
            if ["process_limit", "client_limit"].contains(key) {
                raw.lmtpServiceLimits.append(assignment)
                return
            }
            warnOnce("service lmtp \(key)", "service lmtp { \(key) } is not used by Homing (ignored)", at: location)
        case .serviceStats:
            warnOnce("service stats \(key)", "service stats { \(key) } is not used by Homing (ignored)", at: location)
        case .statsInetListener(let index):
            raw.statsInetListeners[index].assignments.append(assignment)
            if !["address", "port"].contains(key) {
                warnOnce("inet_listener \(key)", "inet_listener { \(key) } is not used by Homing (ignored)", at: location)
            }
        case .service(let index):
            raw.services[index].assignments.append(assignment)
        case .serviceUnixListener(let service, let index):
            raw.services[service].unixListeners[index].assignments.append(assignment)
        case .serviceInetListener(let service, let index):
            raw.services[service].inetListeners[index].assignments.append(assignment)
        case .unixListener(let index):
            raw.unixListeners[index].assignments.append(assignment)
            if !["user", "group", "mode"].contains(key) {
                warnOnce("unix_listener \(key)", "unix_listener { \(key) } is not used by Homing (ignored)", at: location)
            }
        case .inetListener(let index):
            raw.inetListeners[index].assignments.append(assignment)
            if !["address", "port"].contains(key) {
                warnOnce("inet_listener \(key)", "inet_listener { \(key) } is not used by Homing (ignored)", at: location)
            }
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingBlanks() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
