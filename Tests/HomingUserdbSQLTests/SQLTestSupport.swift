import Foundation
import HomingConfig
import HomingTestSupport
import HomingUserdb
import Logging
import NIOPosix
import Testing

@testable import HomingUserdbSQL

/// A started thread pool and a log recorder for one test.
struct SQLTestEnvironment {
    let threadPool: NIOThreadPool
    let logs = LogRecorder()

    var context: UserdbDriverContext {
        UserdbDriverContext(threadPool: threadPool, logger: logs.logger, settings: HomingSettings())
    }

    /// Writes `conf` to a file in `scratch` and creates the driver through the registry, as
    /// Homing does.
    func makeDriver(conf: String, in scratch: ScratchDirectory) throws -> any UserdbDriver {
        let path = try scratch.write("dovecot-sql.conf.ext", conf)
        var registry = UserdbDriverRegistry()
        SQLUserdb.register(in: &registry)
        var settings = UserdbSettings(driver: "sql", location: ConfigLocation(file: "homing.conf", line: 7))
        settings.args = path
        return try registry.makeDriver(for: settings, context: context)
    }
}

/// Runs `body` with a fresh started thread pool and a scratch directory, both removed afterwards.
func withSQLEnvironment<T>(
    threads: Int = 4, _ body: (SQLTestEnvironment, ScratchDirectory) async throws -> T
) async throws -> T {
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    let scratch = try ScratchDirectory("homing-sql-test")
    defer { scratch.remove() }
    do {
        let result = try await body(SQLTestEnvironment(threadPool: pool), scratch)
        try await pool.shutdownGracefully()
        return result
    } catch {
        try? await pool.shutdownGracefully()
        throw error
    }
}

/// The sample database (sql/schema.sql + sql/sample-data.sql) and a driver configured with the
/// shipped sql/dovecot-sql.conf.ext pointed at it.
func withSampleDriver<T>(
    extraConnect: String = "", _ body: (any UserdbDriver, TestPostgresSampleDatabase, SQLTestEnvironment) async throws -> T
) async throws -> T {
    let sample = try await TestPostgresSampleDatabase.create()
    return try await withSQLEnvironment { environment, scratch in
        let driver = try environment.makeDriver(conf: try sample.dovecotSQLConf(extraConnect: extraConnect), in: scratch)
        do {
            let result = try await body(driver, sample, environment)
            await driver.shutdown()
            return result
        } catch {
            await driver.shutdown()
            throw error
        }
    }
}

extension UserdbResult {
    /// The record, when found.
    var record: UserRecord? {
        if case .found(let record) = self { return record }
        return nil
    }

    /// The reason, when a temporary failure.
    var failureReason: String? {
        if case .temporaryFailure(let reason) = self { return reason }
        return nil
    }
}
