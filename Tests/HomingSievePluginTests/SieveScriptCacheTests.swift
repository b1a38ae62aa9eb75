import Foundation
import Glibc
import HomingSieve
import HomingTestSupport
import Testing

@testable import HomingSievePlugin

@Suite("compiled Sieve scripts: cached, recompiled when the file changes")
struct SieveScriptCacheTests {
    @Test("the same compiled script until the file changes; a changed file is recompiled")
    func recompilesOnChange() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let path = dir.file("s.sieve")
        try "keep;\n".write(toFile: path, atomically: false, encoding: .utf8)
        let cache = SieveScriptCache()
        let first = try #require(try cache.load(path, maxSize: 1 << 20))
        #expect(first.script.commands.map(\.name) == ["keep"])
        #expect(try cache.load(path, maxSize: 1 << 20) == first)
        // Replaced by an editor (new inode) or rewritten in place with a new size: recompiled.
        try "discard;\nstop;\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try cache.load(path, maxSize: 1 << 20)?.script.commands.map(\.name) == ["discard", "stop"])
    }

    @Test("a missing file is nil; a broken, oversized or non-UTF-8 script is an error naming the file and line")
    func errors() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let cache = SieveScriptCache()
        #expect(try cache.load(dir.file("none.sieve"), maxSize: 100) == nil)
        try "keep\n".write(toFile: dir.file("bad.sieve"), atomically: false, encoding: .utf8)
        #expect(throws: SieveScriptCache.LoadError.self) { try cache.load(dir.file("bad.sieve"), maxSize: 100) }
        do {
            _ = try cache.load(dir.file("bad.sieve"), maxSize: 100)
        } catch {
            #expect("\(error)".hasPrefix(dir.file("bad.sieve") + ": line "))
        }
        try String(repeating: "keep;\n", count: 100).write(toFile: dir.file("big.sieve"), atomically: false, encoding: .utf8)
        do {
            _ = try cache.load(dir.file("big.sieve"), maxSize: 100)
            Issue.record("an oversized script was accepted")
        } catch {
            #expect("\(error)" == "\(dir.file("big.sieve")): the script is 600 bytes, larger than sieve_max_script_size (100)")
        }
        // "café" in ISO-8859-1 on line 2.
        _ = FileManager.default.createFile(
            atPath: dir.file("latin1.sieve"), contents: Data(Array("keep;\n# caf".utf8) + [0xE9, 0x0A]))
        do {
            _ = try cache.load(dir.file("latin1.sieve"), maxSize: 100)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect("\(error)" == "\(dir.file("latin1.sieve")): line 2: error: invalid UTF-8 in the script.")
        }
    }

    @Test("sieve_max_script_size above the 1M default lets a larger script compile")
    func largerConfiguredLimit() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let text = "# " + String(repeating: "x", count: 1_200_000) + "\nkeep;\n"
        try text.write(toFile: dir.file("large.sieve"), atomically: false, encoding: .utf8)
        let script = try SieveScriptCache().load(dir.file("large.sieve"), maxSize: 2 << 20)
        #expect(script?.script.commands.map(\.name) == ["keep"])
    }
}
