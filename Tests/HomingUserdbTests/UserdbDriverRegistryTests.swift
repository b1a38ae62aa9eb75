import HomingConfig
import Testing

@testable import HomingUserdb

@Suite("UserdbDriverRegistry")
struct UserdbDriverRegistryTests {
    @Test("the built-in registry knows static, passwd-file and passwd")
    func builtInDrivers() {
        #expect(UserdbDriverRegistry.builtIn.knownDrivers == ["passwd", "passwd-file", "static"])
    }

    @Test("an unknown driver is an error at the userdb block listing every known driver")
    func unknownDriver() async throws {
        try await withEnvironment { environment in
            var registry = UserdbDriverRegistry.builtIn
            registry.register("sql") { _, _ throws(ConfigError) in
                ScriptedDriver("sql") { _ in .notFound }
            }
            registry.register("ldap") { _, _ throws(ConfigError) in
                ScriptedDriver("ldap") { _ in .notFound }
            }
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try registry.makeDriver(for: userdb("foo", line: 42), context: context)
            }
            #expect(error?.location == ConfigLocation(file: "/etc/homing/homing.conf", line: 42))
            #expect(
                error?.message
                    == "unknown userdb driver 'foo' (known: ldap, passwd, passwd-file, sql, static)")
            #expect(
                error?.description
                    == "/etc/homing/homing.conf:42: unknown userdb driver 'foo' (known: ldap, passwd, passwd-file, sql, static)"
            )
        }
    }

    @Test("a registered driver replaces one of the same name and is created from its block")
    func registerReplaces() async throws {
        try await withEnvironment { environment in
            var registry = UserdbDriverRegistry.builtIn
            registry.register("static") { settings, _ throws(ConfigError) in
                ScriptedDriver("replaced:" + settings.args) { _ in .notFound }
            }
            let driver = try registry.makeDriver(
                for: userdb("static", args: "x=1"), context: environment.context)
            #expect(driver.driverName == "replaced:x=1")
        }
    }

    @Test("a factory's configuration error reaches the caller unchanged")
    func factoryErrorPassesThrough() async throws {
        try await withEnvironment { environment in
            let context = environment.context
            let error = #expect(throws: ConfigError.self) {
                try UserdbDriverRegistry.builtIn.makeDriver(
                    for: userdb("passwd-file", args: "", line: 7), context: context)
            }
            #expect(error?.location?.line == 7)
            #expect(
                error?.message
                    == "passwd-file userdb args need the path of the file (args = /etc/homing/users)")
        }
    }
}
