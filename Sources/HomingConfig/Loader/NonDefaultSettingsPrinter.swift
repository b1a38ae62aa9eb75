/// Prints a ``LoadedConfiguration`` like `doveconf -n`: only what differs from the defaults,
/// keys and sections sorted by name, `protocol lmtp { }` last. The output reads back as the
/// same configuration.
struct NonDefaultSettingsPrinter {
    var configuration: LoadedConfiguration

    /// One top-level item: a setting line or a whole section, with the name it sorts by.
    private struct Item {
        var sortKey: String
        var lines: [String]
    }

    func text() -> String {
        var lines = ["# Homing configuration: \(configuration.path)"]
        let global = configuration.globalSettings
        let settings = configuration.settings
        let defaults = HomingSettings()
        var items: [Item] = []

        for (name, definition) in SettingDefinitions.all {
            let value = definition.render(global)
            if value != definition.render(defaults) {
                items.append(Item(sortKey: name, lines: [Self.line(name, value)]))
            }
        }
        if let plugin = Self.pluginSection(configuration.raw.globalPlugin) { items.append(plugin) }
        if let service = serviceSection(settings) { items.append(service) }
        for userdb in settings.userdbs {
            items.append(Item(sortKey: "userdb", lines: Self.userdbSection(userdb, kind: "userdb")))
        }
        for passdb in settings.passdbs {
            items.append(Item(sortKey: "passdb", lines: Self.userdbSection(passdb, kind: "passdb")))
        }
        for namespace in settings.namespaces {
            items.append(Item(sortKey: "namespace", lines: Self.namespaceSection(namespace)))
        }
        // A stable sort keeps userdb blocks in the order they are tried.
        let sorted = items.enumerated().sorted { ($0.element.sortKey, $0.offset) < ($1.element.sortKey, $1.offset) }
        for item in sorted { lines += item.element.lines }

        var filterItems: [Item] = []
        var seen: Set<String> = []
        for assignment in configuration.raw.lmtpFilter {
            guard let definition = SettingDefinitions.all[assignment.key], seen.insert(assignment.key).inserted else { continue }
            filterItems.append(Item(sortKey: assignment.key, lines: [Self.line(assignment.key, definition.render(settings))]))
        }
        if let plugin = Self.pluginSection(configuration.raw.lmtpPlugin) { filterItems.append(plugin) }
        if !filterItems.isEmpty {
            lines.append("protocol lmtp {")
            for item in filterItems.sorted(by: { $0.sortKey < $1.sortKey }) {
                lines += item.lines.map { "  " + $0 }
            }
            lines.append("}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Sections

    private static func pluginSection(_ assignments: [RawConfiguration.Assignment]) -> Item? {
        guard !assignments.isEmpty else { return nil }
        var values: [String: String] = [:]
        for assignment in assignments { values[assignment.key] = assignment.value }
        let body = values.keys.sorted().map { "  " + line($0, values[$0] ?? "") }
        return Item(sortKey: "plugin", lines: ["plugin {"] + body + ["}"])
    }

    private func serviceSection(_ settings: HomingSettings) -> Item? {
        var body: [String] = []
        let defaults = LMTPServiceSettings()
        if settings.lmtpService.clientLimit != defaults.clientLimit {
            body.append(Self.line("client_limit", String(settings.lmtpService.clientLimit)))
        }
        if settings.lmtpService.processLimit != defaults.processLimit {
            body.append(Self.line("process_limit", String(settings.lmtpService.processLimit)))
        }
        let defaultListener = UnixListenerSettings(path: "lmtp")
        for listener in settings.lmtpService.unixListeners.sorted(by: { $0.path < $1.path }) {
            if listener.path == defaultListener.path, listener.user.isEmpty, listener.group.isEmpty,
               listener.mode == defaultListener.mode { continue }
            var inner: [String] = []
            if !listener.group.isEmpty { inner.append(Self.line("group", listener.group)) }
            inner.append(Self.line("mode", SettingValueParser.formatMode(listener.mode)))
            if !listener.user.isEmpty { inner.append(Self.line("user", listener.user)) }
            body += Self.section("unix_listener \(Self.sectionName(listener.path))", inner)
        }
        for listener in settings.lmtpService.inetListeners.sorted(by: { $0.name < $1.name }) {
            var inner: [String] = []
            if listener.addresses != settings.listen {
                inner.append(Self.line("address", listener.addresses.joined(separator: ", ")))
            }
            inner.append(Self.line("port", String(listener.port)))
            body += Self.section("inet_listener \(Self.sectionName(listener.name))", inner)
        }
        guard !body.isEmpty else { return nil }
        return Item(sortKey: "service", lines: Self.section("service lmtp", body))
    }

    /// A `userdb { }` or (`kind` = passdb) `passdb { }` block.
    private static func userdbSection(_ userdb: UserdbSettings, kind: String) -> [String] {
        let defaults = UserdbSettings(driver: userdb.driver)
        var inner: [(String, String)] = [("driver", userdb.driver)]
        if !userdb.args.isEmpty { inner.append(("args", userdb.args)) }
        if !userdb.defaultFields.isEmpty { inner.append(("default_fields", userdb.defaultFields)) }
        if !userdb.overrideFields.isEmpty { inner.append(("override_fields", userdb.overrideFields)) }
        if userdb.skip != defaults.skip { inner.append(("skip", userdb.skip)) }
        if userdb.resultSuccess != defaults.resultSuccess { inner.append(("result_success", userdb.resultSuccess)) }
        if userdb.resultFailure != defaults.resultFailure { inner.append(("result_failure", userdb.resultFailure)) }
        if userdb.resultInternalfail != defaults.resultInternalfail {
            inner.append(("result_internalfail", userdb.resultInternalfail))
        }
        if userdb.deny { inner.append(("deny", "yes")) }
        if userdb.master { inner.append(("master", "yes")) }
        let title = userdb.name.map { "\(kind) \(sectionName($0))" } ?? kind
        return section(title, inner.sorted { $0.0 < $1.0 }.map { line($0.0, $0.1) })
    }

    private static func namespaceSection(_ namespace: NamespaceSettings) -> [String] {
        var inner: [String] = []
        if namespace.inbox { inner.append(line("inbox", "yes")) }
        if !namespace.prefix.isEmpty { inner.append(line("prefix", namespace.prefix)) }
        if !namespace.separator.isEmpty { inner.append(line("separator", namespace.separator)) }
        let title = namespace.name.map { "namespace \(sectionName($0))" } ?? "namespace"
        return section(title, inner)
    }

    // MARK: - Formatting

    private static func section(_ title: String, _ body: [String]) -> [String] {
        ["\(title) {"] + body.map { "  " + $0 } + ["}"]
    }

    /// `key = value`, quoting values that would otherwise read back differently.
    static func line(_ key: String, _ value: String) -> String {
        "\(key) = \(quotedIfNeeded(value))"
    }

    /// `value` as it must be written to read back the same. The lexer reads bytes, so the
    /// checks and the escaping go by Unicode scalar, not by `Character`: a quote or a `#`
    /// followed by a combining mark is one `Character` but still a quote or a comment start.
    static func quotedIfNeeded(_ value: String) -> String {
        let scalars = value.unicodeScalars
        let needsQuotes = scalars.isEmpty || scalars.first == " " || scalars.last == " " || scalars.first == "\t"
            || scalars.last == "\t" || scalars.last == "\\" || scalars.contains("#") || scalars.first == "\""
            || scalars.first == "'" || scalars.first == "<" || value.split(separator: " ").contains { $0.hasPrefix("$") }
        guard needsQuotes else { return value }
        return escapedInQuotes(value)
    }

    /// A section argument, quoted when it holds blanks, quotes or `#`, or starts with `=` or
    /// `{` (which would make the line a setting or a section without a name).
    private static func sectionName(_ name: String) -> String {
        let scalars = name.unicodeScalars
        let needsQuotes = scalars.isEmpty || scalars.first == "=" || scalars.first == "{"
            || scalars.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "#" })
        return needsQuotes ? escapedInQuotes(name) : name
    }

    /// `text` between double quotes, each `"` and `\` preceded by a backslash.
    private static func escapedInQuotes(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.append(scalar)
        }
        out.append("\"")
        return String(out)
    }
}
