import Foundation
import Glibc
import HomingTestSupport
import Testing

/// The quick-start configuration shipped in quickstart/ stays valid: it loads and checks as
/// start-up does, and its default Sieve script compiles.
@Suite("quick start configuration")
struct QuickStartTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("quickstart/homing.conf.in passes homing config --check, and default.sieve compiles")
    func quickStartChecks() async throws {
        let dir = try ScratchDirectory("homing-quickstart")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("run"), withIntermediateDirectories: true)
        let template = try String(contentsOfFile: Self.repository + "/quickstart/homing.conf.in", encoding: .utf8)
        let config = template
            .replacingOccurrences(of: "@RUN@", with: dir.file("run"))
            .replacingOccurrences(of: "@DIR@", with: Self.repository + "/quickstart")
            .replacingOccurrences(of: "@UID@", with: "65534")
            .replacingOccurrences(of: "@GID@", with: "65534")
        try dir.write("homing.conf", config)
        let check = try await HomingBinary.run(["config", "--check", "-c", dir.file("homing.conf")])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(!check.standardError.contains("Warning"), "\(check.standardError)")
        let sieve = try await HomingBinary.run(["sieve-check", Self.repository + "/quickstart/default.sieve"])
        #expect(sieve.status == 0, "\(sieve.standardOutput)")
        let quota = try await HomingBinary.run(["quota", "get", "-c", dir.file("homing.conf"), "carol@example.org"])
        #expect(quota.status == 0, "\(quota.standardError)")
        #expect(quota.standardOutput.contains(try Regex("User quota +STORAGE +0 +10240 +0\n")), "\(quota.standardOutput)")
    }
}
