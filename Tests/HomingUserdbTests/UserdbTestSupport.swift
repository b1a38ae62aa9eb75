import Foundation
import HomingConfig
import HomingTestSupport
import Logging
import NIOPosix
import Testing

@testable import HomingUserdb

/// A started thread pool, a recording logger and settings, for one test.
struct TestEnvironment {
    let threadPool: NIOThreadPool
    let logs = LogRecorder()
    var settings = HomingSettings()

    var context: UserdbDriverContext {
        UserdbDriverContext(threadPool: threadPool, logger: logs.logger, settings: settings)
    }
}

/// Runs `body` with a fresh started thread pool, shut down afterwards.
func withEnvironment<T>(_ body: (inout TestEnvironment) async throws -> T) async throws -> T {
    let pool = NIOThreadPool(numberOfThreads: 2)
    pool.start()
    var environment = TestEnvironment(threadPool: pool)
    do {
        let result = try await body(&environment)
        try await pool.shutdownGracefully()
        return result
    } catch {
        try? await pool.shutdownGracefully()
        throw error
    }
}

/// A userdb block for tests.
func userdb(
    _ driver: String, args: String = "", defaultFields: String = "", overrideFields: String = "",
    skip: String = "never", success: String = "return-ok", failure: String = "continue",
    internalfail: String = "continue", line: Int = 10
) -> UserdbSettings {
    var settings = UserdbSettings(
        driver: driver, location: ConfigLocation(file: "/etc/homing/homing.conf", line: line))
    settings.args = args
    settings.defaultFields = defaultFields
    settings.overrideFields = overrideFields
    settings.skip = skip
    settings.resultSuccess = success
    settings.resultFailure = failure
    settings.resultInternalfail = internalfail
    return settings
}

/// A scripted driver: answers from a closure, counts its lookups.
struct ScriptedDriver: UserdbDriver {
    let driverName: String
    let answer: @Sendable (UserdbRequest) -> UserdbResult
    let users: [String]?
    let calls: CallCounter

    init(
        _ name: String, users: [String]? = nil, calls: CallCounter = CallCounter(),
        answer: @escaping @Sendable (UserdbRequest) -> UserdbResult
    ) {
        self.driverName = name
        self.users = users
        self.calls = calls
        self.answer = answer
    }

    func lookup(_ request: UserdbRequest) async -> UserdbResult {
        await calls.record(request.user)
        return answer(request)
    }

    func iterateUsers() async throws(UserdbIterationError) -> [String] {
        guard let users else { throw .unsupported(driver: driverName) }
        return users
    }
}

/// Which users a scripted driver was asked about.
actor CallCounter {
    private(set) var users: [String] = []
    func record(_ user: String) { users.append(user) }
}

/// A registry holding the built-in drivers plus scripted ones under their names.
func registry(_ drivers: [ScriptedDriver]) -> UserdbDriverRegistry {
    var registry = UserdbDriverRegistry.builtIn
    for driver in drivers {
        registry.register(driver.driverName) { _, _ throws(ConfigError) in driver }
    }
    return registry
}

/// The fields of a found user, or nil.
func fields(_ result: UserdbResult) -> [String: String]? {
    guard case .found(let record) = result else { return nil }
    var fields: [String: String] = ["user": record.user]
    for field in record.fields { fields[field.name] = field.value }
    return fields
}
