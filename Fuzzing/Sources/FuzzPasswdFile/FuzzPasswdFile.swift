import FuzzSupport
import HomingConfig
import HomingUserdb
import Logging
import NIOPosix

/// libFuzzer target: passwd-file contents through `PasswdFileUserdbDriver` (the public face
/// of `PasswdFileParser`): the input is written to a file, the driver reads it at creation,
/// lists its users, and looks up the first of them, which expands their `userdb_` fields.
/// A listed user is never "not found".
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPasswdFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 16 * 1024) else { return 0 }
    let path = FuzzScratchDirectory.write(input, to: "users")
    var settings = UserdbSettings(driver: "passwd-file")
    settings.args = path
    let driver: PasswdFileUserdbDriver
    do throws(ConfigError) {
        driver = try PasswdFileUserdbDriver(settings: settings, context: context)
    } catch {
        fuzzCheck(!error.description.isEmpty, "a passwd-file error without a message")
        return 0
    }
    let problems = runBlocking { () async -> [String] in
        let users: [String]
        do throws(UserdbIterationError) {
            users = try await driver.iterateUsers()
        } catch {
            return ["iterating a readable file failed: \(error)"]
        }
        var problems: [String] = []
        for user in users.prefix(16) {
            if case .notFound = await driver.lookup(UserdbRequest(user: user)) {
                problems.append("listed user \(user.debugDescription) is not found")
            }
        }
        return problems
    }
    fuzzCheck(problems.isEmpty, problems.joined(separator: "\n"))
    return 0
}

/// One started thread pool for the process (the driver reads the file on it), logs dropped.
private let context: UserdbDriverContext = {
    let pool = NIOThreadPool(numberOfThreads: 1)
    pool.start()
    return UserdbDriverContext(
        threadPool: pool, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }),
        settings: HomingSettings())
}()

@main
enum FuzzPasswdFileMain {
    static func main() {
        // Started before the first input, so that LeakSanitizer's check after each input does
        // not count the pool's own allocations (held for the whole run) against that input.
        _ = context
        runFuzzer(fuzzPasswdFile)
    }
}
