import HomingConfig

/// The `connect` setting of dovecot-sql.conf.ext, split into what libpq gets and what Homing
/// keeps for itself.
///
/// The value is libpq's conninfo (`host=db1 dbname=mail user=homing password='a b'`) or a
/// connection URI (`postgresql://homing@db1/mail?sslmode=require`), passed to libpq unchanged
/// except that these extra parameters are taken out first:
/// - `maxconns=N` (Dovecot's): the most connections the pool opens, default 5.
/// - `query_timeout=T` (Homing's): how long a lookup may take, waiting for a connection included,
///   before it is a temporary failure; `5`, `5s` or `2500ms`, default 5 s.
///
/// With a URI, the extras go into its query string (`...?maxconns=10`) or after it, separated by
/// a space.
///
/// Several servers, in both forms Dovecot 2.3 and libpq accept:
/// - Dovecot's: several `host=` words (`host=db1 host=db2 dbname=mail port=5432`). Each host is a
///   server of its own, with every other word of the string (so they share `port`, `dbname`...),
///   as Dovecot's sqlpool does; the driver keeps a pool per server (up to `maxconns` each), spreads
///   lookups over them round-robin and skips a server whose connection failed until its back-off
///   ends. See ``servers``.
/// - libpq's: one `host=` with a comma-separated list (`host=db1,db2 port=5432,5433
///   target_session_attrs=read-write`), or a URI with several hosts. It is one server for Homing,
///   passed to libpq unchanged: libpq tries the hosts in order at each connection.
///
/// When the string sets no `connect_timeout`, the driver gives libpq the query timeout (at least
/// 2 s, libpq's minimum), so that opening a connection to an unreachable server ends.
struct PostgresConnectString: Sendable, Hashable {
    /// What libpq gets, one string per server: the conninfo or URI without the extra parameters;
    /// with Dovecot's several `host=` words, one string per host (`host=db2 dbname=mail ...`).
    /// Never empty.
    var servers: [String]
    /// The first server's string (the only one unless several `host=` words were given).
    var libpqString: String { servers[0] }
    /// A name for each server in messages: its `host=` value with Dovecot's several `host=`
    /// words; empty otherwise (one server needs no name).
    var serverNames: [String] = []
    /// `maxconns`.
    var maxConnections: Int
    /// `query_timeout`.
    var queryTimeout: Duration
    /// Whether the string sets `connect_timeout` itself.
    var hasConnectTimeout: Bool

    static let defaultMaxConnections = 5
    static let defaultQueryTimeout = Duration.seconds(5)

    /// Splits `text` (the `connect` value). `location` is the setting's line, for errors.
    static func parse(_ text: String, at location: ConfigLocation?) throws(ConfigError) -> PostgresConnectString {
        var trimmed = Substring(text)
        while let first = trimmed.first, first.isWhitespace { trimmed.removeFirst() }
        if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
            return try parseURI(trimmed, at: location)
        }
        let words = try ConnInfoWord.split(trimmed, at: location)
        var extras = Extras()
        var kept: [String] = []
        var hosts: [ConnInfoWord] = []
        var hasConnectTimeout = false
        for word in words {
            if try extras.take(word.key, word.value, at: location) { continue }
            if word.key == "connect_timeout" { hasConnectTimeout = true }
            if word.key == "host" {
                hosts.append(word)
                continue
            }
            kept.append(word.raw)
        }
        // A host= word holding a libpq list (host=a,b) stays one server: libpq walks it.
        let servers: [String]
        if hosts.isEmpty {
            servers = [kept.joined(separator: " ")]
        } else {
            // Dovecot's sqlpool: each host gets the other words; the host goes first.
            servers = hosts.map { host in ([host.raw] + kept).joined(separator: " ") }
        }
        var parsed = PostgresConnectString(
            servers: servers, maxConnections: extras.maxConnections,
            queryTimeout: extras.queryTimeout, hasConnectTimeout: hasConnectTimeout)
        if hosts.count > 1 { parsed.serverNames = hosts.map(\.value) }
        return parsed
    }

    // MARK: - URI

    private static func parseURI(_ text: Substring, at location: ConfigLocation?) throws(ConfigError) -> PostgresConnectString {
        let uriEnd = text.firstIndex { $0.isWhitespace } ?? text.endIndex
        let uri = text[..<uriEnd]
        var extras = Extras()
        for word in try ConnInfoWord.split(text[uriEnd...], at: location) {
            guard try extras.take(word.key, word.value, at: location) else {
                throw ConfigError(
                    "connect: libpq takes no parameters after a connection URI; put '\(word.key)' in the URI's "
                        + "query string (...?\(word.key)=...)", at: location)
            }
        }
        var base = uri
        var query: Substring = ""
        if let mark = uri.firstIndex(of: "?") {
            base = uri[..<mark]
            query = uri[uri.index(after: mark)...]
        }
        var keptParameters: [Substring] = []
        var hasConnectTimeout = false
        for parameter in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key = parameter.prefix { $0 != "=" }
            let value = parameter.dropFirst(key.count + 1)
            if try extras.take(String(key), String(value), at: location) { continue }
            if key == "connect_timeout" { hasConnectTimeout = true }
            keptParameters.append(parameter)
        }
        var libpq = String(base)
        if !keptParameters.isEmpty { libpq += "?" + keptParameters.joined(separator: "&") }
        return PostgresConnectString(
            servers: [libpq], maxConnections: extras.maxConnections, queryTimeout: extras.queryTimeout,
            hasConnectTimeout: hasConnectTimeout)
    }

    // MARK: - Homing's and Dovecot's extra parameters

    private struct Extras {
        var maxConnections = PostgresConnectString.defaultMaxConnections
        var queryTimeout = PostgresConnectString.defaultQueryTimeout

        /// Consumes `key=value` when it is one of ours; false when libpq should get it.
        mutating func take(_ key: String, _ value: String, at location: ConfigLocation?) throws(ConfigError) -> Bool {
            switch key {
            case "maxconns":
                guard let number = Int(value), number >= 1, number <= 1000 else {
                    throw ConfigError(
                        "connect: maxconns=\(value) is not a number of connections between 1 and 1000", at: location)
                }
                maxConnections = number
                return true
            case "query_timeout":
                guard let timeout = PostgresConnectString.parseTimeout(value) else {
                    throw ConfigError(
                        "connect: query_timeout=\(value) is not a time (write 5, 5s or 2500ms; more than 0, at most 3600 s)",
                        at: location)
                }
                queryTimeout = timeout
                return true
            default:
                return false
            }
        }
    }

    /// `5`, `5s`, `2500ms` → a duration above zero and at most an hour; nil otherwise. Only
    /// seconds and milliseconds: in a libpq string `5m` would read as minutes to some and
    /// milliseconds to others.
    static func parseTimeout(_ text: String) -> Duration? {
        let unit = text.drop { ("0"..."9").contains($0) }
        guard unit.isEmpty || unit == "s" || unit == "ms", let duration = try? DovecotInterval.parse(text),
            duration > .zero, duration <= .seconds(3600)
        else {
            return nil
        }
        return duration
    }
}

/// One `key=value` word of a libpq conninfo string, split the way libpq does: spaces around `=`
/// allowed, values optionally in single quotes, `\` escaping the next character.
struct ConnInfoWord: Sendable, Hashable {
    var key: String
    /// The value with quotes and escapes removed.
    var value: String
    /// The word as written (re-used unchanged for libpq).
    var raw: String

    static func split(_ text: Substring, at location: ConfigLocation?) throws(ConfigError) -> [ConnInfoWord] {
        let characters = Array(text)
        var words: [ConnInfoWord] = []
        var index = 0
        func skipSpaces() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }
        while true {
            skipSpaces()
            guard index < characters.count else { return words }
            let start = index
            var key = ""
            while index < characters.count, characters[index] != "=", !characters[index].isWhitespace {
                key.append(characters[index])
                index += 1
            }
            skipSpaces()
            guard index < characters.count, characters[index] == "=" else {
                throw ConfigError("connect: '\(key)' is not followed by '=' (libpq expects key=value words)", at: location)
            }
            index += 1
            skipSpaces()
            var value = ""
            if index < characters.count, characters[index] == "'" {
                index += 1
                var closed = false
                while index < characters.count {
                    let character = characters[index]
                    if character == "\\", index + 1 < characters.count {
                        value.append(characters[index + 1])
                        index += 2
                        continue
                    }
                    index += 1
                    if character == "'" {
                        closed = true
                        break
                    }
                    value.append(character)
                }
                guard closed else {
                    throw ConfigError("connect: the quoted value of '\(key)' has no closing quote", at: location)
                }
            } else {
                while index < characters.count, !characters[index].isWhitespace {
                    if characters[index] == "\\", index + 1 < characters.count {
                        value.append(characters[index + 1])
                        index += 2
                        continue
                    }
                    value.append(characters[index])
                    index += 1
                }
            }
            guard !key.isEmpty else {
                throw ConfigError("connect: a word starts with '=' (libpq expects key=value words)", at: location)
            }
            words.append(ConnInfoWord(key: key, value: value, raw: String(characters[start..<index])))
        }
    }

    /// A value quoted for a conninfo string.
    static func quote(_ value: String) -> String {
        var quoted = "'"
        for character in value {
            if character == "'" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "'"
    }
}
