import HomingConfig
import Logging
import NIOPosix

/// The configured `userdb { }` blocks, tried in order with Dovecot's rules.
///
/// Each block's `skip` decides whether it is tried, given whether the user has been found so
/// far; its `result_success`, `result_failure` and `result_internalfail` say whether to stop
/// or go on and how to change that found/not-found state (see ``UserdbResultRule``). A userdb
/// that found the user and lets the chain go on keeps its fields; later userdbs add to them.
/// When the chain stops without the user found, a temporary failure of any userdb makes the
/// answer a temporary failure (the user might have been there), else the user is not found.
///
/// `default_fields` are set before a userdb's own fields and `override_fields` after them,
/// `%` variables expanded per user (`%h` is the home found so far). After a successful lookup
/// `uid`/`gid` names are turned into numbers and `home` must be absolute; every temporary
/// failure is logged at error level with the user and the driver.
public final class UserdbChain: UserdbDriver {
    /// One `userdb { }` block with its driver.
    struct Member: Sendable {
        var settings: UserdbSettings
        var driver: any UserdbDriver
        var rules: UserdbBlockRules
        var defaultFields: UserdbFieldTemplate
        var overrideFields: UserdbFieldTemplate
    }

    private let members: [Member]
    /// A userdb chain, or the walk under a ``PassdbChain``.
    private let role: DatabaseRole
    /// Dovecot 2.4: found users' 2.4 field names are turned into 2.3's (see ``MailStorage24``).
    private let syntax: VariableSyntax
    private let storageDefaults: [String: String]
    private let threadPool: NIOThreadPool
    private let logger: Logger

    /// Builds the chain from `settings.userdbs`, creating each driver with `registry`.
    ///
    /// Throws a ``ConfigError`` when no userdb is configured, a driver is unknown, or a block's
    /// settings are invalid (at the block's location).
    public convenience init(
        settings: HomingSettings, registry: UserdbDriverRegistry = .builtIn,
        context: UserdbDriverContext
    ) throws(ConfigError) {
        guard !settings.userdbs.isEmpty else {
            throw ConfigError(
                "no userdb configured: add a userdb { driver = ... } block (for example "
                    + "userdb { driver = static args = uid=vmail gid=vmail home=/var/vmail/%d/%n allow_all_users=yes })"
            )
        }
        try self.init(blocks: settings.userdbs, role: .userdb, settings: settings, registry: registry, context: context)
    }

    /// The chain of `blocks`, their drivers created for `role` (a ``PassdbChain`` walks a
    /// passdb chain built here).
    init(
        blocks: [UserdbSettings], role: DatabaseRole, settings: HomingSettings, registry: UserdbDriverRegistry,
        context: UserdbDriverContext
    ) throws(ConfigError) {
        var context = context
        context.role = role
        var members: [Member] = []
        for block in blocks {
            // Check the block's own settings before starting its driver.
            let rules = try UserdbBlockRules(block, role: role)
            let defaults = try Self.fieldTemplate(
                block.defaultFields, setting: "\(role.rawValue) default_fields", at: block.location,
                syntax: block.variableSyntax)
            let overrides = try Self.fieldTemplate(
                block.overrideFields, setting: "\(role.rawValue) override_fields", at: block.location,
                syntax: block.variableSyntax)
            let driver = try registry.makeDriver(for: block, context: context)
            members.append(
                Member(
                    settings: block, driver: driver, rules: rules, defaultFields: defaults,
                    overrideFields: overrides))
        }
        self.members = members
        self.role = role
        self.syntax = settings.variableSyntax
        self.storageDefaults = settings.mailStorage24
        self.threadPool = context.threadPool
        self.logger = context.logger
    }

    private static func fieldTemplate(_ text: String, setting: String, at location: ConfigLocation?,
                                      syntax: VariableSyntax)
        throws(ConfigError)
        -> UserdbFieldTemplate
    {
        let fields: UserdbFieldTemplate
        do {
            fields = try UserdbFieldTemplate.parse(text)
        } catch {
            throw ConfigError("\(setting): \(error)", at: location)
        }
        try UserdbVariables.validate(fields, setting: setting, at: location, syntax: syntax)
        return fields
    }

    /// The drivers' names in chain order.
    public var driverNames: [String] { members.map(\.driver.driverName) }

    /// The drivers' names joined with `,` (`sql,passwd`), for messages.
    public var driverName: String { driverNames.joined(separator: ",") }

    // MARK: - Lookup

    /// Looks a user up through the chain. A found user has numeric `uid`/`gid` (when set) and
    /// an absolute `home` (when set).
    public func lookup(_ request: UserdbRequest) async -> UserdbResult {
        await lookup(request, trace: nil)
    }

    /// Looks a user up as ``lookup(_:)`` does, reporting each block passed over or asked to
    /// `trace` (for `homing explain`; the lookup itself is unchanged).
    public func lookup(_ request: UserdbRequest, trace: UserdbTrace?) async -> UserdbResult {
        switch await walk(request, trace: trace) {
        case .found(let record, let driver): return await finish(record, driver: driver)
        case .notFound: return .notFound
        case .failed(let reason): return .temporaryFailure(reason: reason)
        }
    }

    /// What the walk through the blocks ended with, before a userdb's checks (``finish``).
    enum Walk: Sendable, Hashable {
        /// Found, with the fields kept and the driver that gave them last.
        case found(UserRecord, driver: String)
        case notFound
        /// Temporary failure; the reasons (already logged) joined with `; `.
        case failed(reason: String)
    }

    /// Walks the blocks with Dovecot's `skip` and `result_*` rules. In a passdb chain a
    /// `deny = yes` block that finds the user stops the walk with "not found" (Dovecot's
    /// "user disabled"), and one that fails stops it with the failure.
    func walk(_ request: UserdbRequest, trace: UserdbTrace?) async -> Walk {
        var progress = UserdbChainProgress()
        // The fields kept so far (from userdbs that found the user and let the chain go on).
        var kept = UserRecord(user: request.user)
        var failures: [String] = []
        var lastOutcome: UserdbOutcome? = nil
        // The driver whose fields were kept last, to name in messages about the result.
        var foundBy = members.first?.driver.driverName ?? "userdb"
        var index = nextMember(from: 0, progress: progress, trace: trace)

        while let current = index {
            let member = members[current]
            var lookupRequest = request
            lookupRequest.user = kept.user
            let failuresBefore = failures.count
            let (outcome, record) = await lookUp(
                lookupRequest, in: member, over: kept, failures: &failures)
            lastOutcome = outcome
            if role == .passdb, member.settings.deny, outcome != .notFound {
                let denied = outcome == .found
                let reason = failures[failuresBefore...].joined(separator: "; ")
                trace?(step(current, denied ? .found(user: kept.user, fields: []) : .failed(reason: reason),
                            rule: nil, goesOn: false))
                guard denied else { return .failed(reason: failures.joined(separator: "; ")) }
                logger.info("passdb \(member.driver.driverName)(\(request.user)): denied by a deny = yes passdb",
                            metadata: ["user": "\(request.user)", "passdb": "\(member.driver.driverName)"])
                return .notFound
            }
            let rule = member.rules.rule(for: outcome)
            let goOn = progress.record(outcome, rule: rule)
            if outcome == .found, let record {
                kept = record
                foundBy = member.driver.driverName
            }
            let more = current + 1 < members.count
            if let trace {
                let event: UserdbTraceStep.Event
                switch outcome {
                case .found: event = .found(user: record?.user ?? kept.user, fields: record?.fields ?? [])
                case .notFound: event = .notFound
                case .internalFailure:
                    event = .failed(reason: failures.count > failuresBefore ? failures[failuresBefore...].joined(separator: "; ") : "internal failure")
                }
                trace(step(current, event, rule: rule, goesOn: goOn && more))
            }
            guard goOn, more else { break }
            let next = nextMember(from: current + 1, progress: progress, trace: trace)
            guard let next else { break }
            progress.movingOn(after: outcome)
            index = next
        }

        if role == .passdb, lastOutcome == nil {
            // Dovecot: "All password databases were skipped" is an internal failure.
            return .failed(reason: logFailure("all password databases were skipped", user: request.user, driver: driverName))
        }
        switch progress.verdict(lastOutcome: lastOutcome) {
        case .found:
            return .found(kept, driver: foundBy)
        case .notFound:
            return .notFound
        case .internalFailure:
            return .failed(reason: failures.joined(separator: "; "))
        }
    }

    /// The first member at or after `start` that `skip` does not pass over (each one passed
    /// over is reported to `trace`).
    private func nextMember(from start: Int, progress: UserdbChainProgress, trace: UserdbTrace? = nil) -> Int? {
        var index = start
        while index < members.count {
            let skip = members[index].rules.skip
            if !progress.skips(skip, passdb: role == .passdb) { return index }
            let foundSoFar = role == .passdb ? progress.authenticated : progress.userExists
            trace?(step(index, .skipped(skip: skip, userFoundSoFar: foundSoFar), rule: nil, goesOn: true))
            index += 1
        }
        return nil
    }

    private func step(_ index: Int, _ event: UserdbTraceStep.Event, rule: UserdbResultRule?, goesOn: Bool) -> UserdbTraceStep {
        let member = members[index]
        return UserdbTraceStep(
            index: index + 1, driver: member.driver.driverName, name: member.settings.name,
            location: member.settings.location, event: event, rule: rule, chainGoesOn: goesOn)
    }

    /// One userdb: default fields, the driver's answer, override fields.
    private func lookUp(
        _ request: UserdbRequest, in member: Member, over kept: UserRecord, failures: inout [String]
    ) async -> (UserdbOutcome, UserRecord?) {
        let driver = member.driver.driverName
        var record = kept
        do {
            let defaults = try UserdbVariables(request: request, home: kept.home, syntax: member.settings.variableSyntax)
                .expand(member.defaultFields)
            for field in defaults { record[field.name] = field.value }
        } catch {
            failures.append(logFailure("default_fields: \(error)", user: request.user, driver: driver))
            return (.internalFailure, nil)
        }
        let start = ContinuousClock.now
        let answer = await member.driver.lookup(request)
        UserdbMetrics.lookup(driver: driver, answer, took: ContinuousClock.now - start, role: role)
        switch answer {
        case .notFound:
            return (.notFound, nil)
        case .temporaryFailure(let reason):
            failures.append(logFailure(reason, user: request.user, driver: driver))
            return (.internalFailure, nil)
        case .found(let found):
            record.user = found.user
            for field in found.fields { record[field.name] = field.value }
        }
        do {
            var after = request
            after.user = record.user
            let overrides = try UserdbVariables(request: after, home: record.home, syntax: member.settings.variableSyntax)
                .expand(member.overrideFields)
            for field in overrides { record[field.name] = field.value }
        } catch {
            failures.append(logFailure("override_fields: \(error)", user: request.user, driver: driver))
            return (.internalFailure, nil)
        }
        return (.found, record)
    }

    /// Checks and normalises a found user: empty `home` means none, a relative one fails;
    /// `uid`/`gid` names become numbers.
    private func finish(_ found: UserRecord, driver: String) async -> UserdbResult {
        var record = found
        if syntax == .dovecot24 {
            let fields = MailStorage24.normalisedFields(found.fields.map { ($0.name, $0.value) }, defaults: storageDefaults)
            record = UserRecord(user: found.user, fields: fields.map { UserdbField($0.name, $0.value) })
        }
        if let home = record.home {
            if home.isEmpty {
                record["home"] = nil
            } else if !home.hasPrefix("/") {
                let reason = "user \(record.user): home '\(home)' is not an absolute path"
                return .temporaryFailure(reason: logFailure(reason, user: record.user, driver: driver))
            }
        }
        let pending = [UserdbIDResolver.Kind.uid, .gid].compactMap {
            kind -> (UserdbIDResolver.Kind, String)? in
            guard let value = record[kind.rawValue], UserdbIDResolver.numericID(value) == nil else {
                return nil
            }
            return (kind, value)
        }
        guard !pending.isEmpty else { return .found(record) }
        let resolutions: [UserdbIDResolver.Resolution]
        do {
            resolutions = try await threadPool.runIfActive {
                pending.map { UserdbIDResolver.resolve($0.1, as: $0.0) }
            }
        } catch {
            let reason =
                "user \(record.user): cannot resolve uid/gid names: the thread pool is not running"
            return .temporaryFailure(reason: logFailure(reason, user: record.user, driver: driver))
        }
        for ((kind, value), resolution) in zip(pending, resolutions) {
            if case .number(let number) = resolution {
                record[kind.rawValue] = String(number)
            } else if let reason = UserdbIDResolver.problem(
                resolution, user: record.user, kind: kind, value: value)
            {
                return .temporaryFailure(reason: logFailure(reason, user: record.user, driver: driver))
            }
        }
        return .found(record)
    }

    /// Logs a temporary failure at error level and returns its reason.
    /// A passdb's message starts with `passdb ` (`passdb sql(alice): ...`).
    private func logFailure(_ reason: String, user: String, driver: String) -> String {
        let prefix = role == .passdb ? "passdb " : ""
        logger.error(
            "\(prefix)\(driver)(\(user)): \(reason)",
            metadata: ["user": "\(user)", "\(role.rawValue)": "\(driver)"])
        return reason
    }

    // MARK: - Iteration and shutdown

    /// Every user of the drivers that can list users, in chain order. Throws `.unsupported`
    /// when none can, `.failed` when one fails.
    public func iterateUsers() async throws(UserdbIterationError) -> [String] {
        var users: [String] = []
        var anySupported = false
        for member in members {
            do throws(UserdbIterationError) {
                users += try await member.driver.iterateUsers()
                anySupported = true
            } catch {
                if case .unsupported = error { continue }
                throw error
            }
        }
        guard anySupported else { throw .unsupported(driver: driverName) }
        return users
    }

    /// Shuts every driver down, in chain order.
    public func shutdown() async {
        for member in members {
            await member.driver.shutdown()
        }
    }
}
