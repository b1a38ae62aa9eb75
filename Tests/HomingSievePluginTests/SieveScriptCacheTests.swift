import Foundation
import Glibc
import HomingSieve
import HomingTestSupport
import Testing

@testable import HomingSievePlugin

@Suite("compiled Sieve scripts: cached, recompiled when the file changes")
struct SieveScriptCacheTests {
    func options(maxSize: Int, _ extensions: SieveExtensionSet = .pigeonholeDefault) -> SieveCompileOptions {
        SieveCompileOptions(extensions: extensions, scope: .personal, maxScriptSize: maxSize)
    }

    @Test("the same compiled script until the file changes; a changed file is recompiled")
    func recompilesOnChange() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let path = dir.file("s.sieve")
        try "keep;\n".write(toFile: path, atomically: false, encoding: .utf8)
        let cache = SieveScriptCache()
        let first = try #require(try cache.load(path, options: options(maxSize: 1 << 20))?.script)
        #expect(first.script.commands.map(\.name) == ["keep"])
        #expect(try cache.load(path, options: options(maxSize: 1 << 20))?.script == first)
        // Replaced by an editor (new inode) or rewritten in place with a new size: recompiled.
        try "discard;\nstop;\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try cache.load(path, options: options(maxSize: 1 << 20))?.script.script.commands.map(\.name) == ["discard", "stop"])
    }

    @Test("a missing file is nil; a broken, oversized or non-UTF-8 script is an error naming the file and line")
    func errors() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let cache = SieveScriptCache()
        #expect(try cache.load(dir.file("none.sieve"), options: options(maxSize: 100)) == nil)
        try "keep\n".write(toFile: dir.file("bad.sieve"), atomically: false, encoding: .utf8)
        #expect(throws: SieveScriptCache.LoadError.self) { try cache.load(dir.file("bad.sieve"), options: options(maxSize: 100)) }
        do {
            _ = try cache.load(dir.file("bad.sieve"), options: options(maxSize: 100))
        } catch {
            #expect("\(error)".hasPrefix(dir.file("bad.sieve") + ": line "))
        }
        try String(repeating: "keep;\n", count: 100).write(toFile: dir.file("big.sieve"), atomically: false, encoding: .utf8)
        do {
            _ = try cache.load(dir.file("big.sieve"), options: options(maxSize: 100))
            Issue.record("an oversized script was accepted")
        } catch {
            #expect("\(error)" == "\(dir.file("big.sieve")): the script is 600 bytes, larger than sieve_max_script_size (100)")
        }
        // "café" in ISO-8859-1 on line 2.
        _ = FileManager.default.createFile(
            atPath: dir.file("latin1.sieve"), contents: Data(Array("keep;\n# caf".utf8) + [0xE9, 0x0A]))
        do {
            _ = try cache.load(dir.file("latin1.sieve"), options: options(maxSize: 100))
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
        let script = try SieveScriptCache().load(dir.file("large.sieve"), options: options(maxSize: 2 << 20))
        #expect(script?.script.script.commands.map(\.name) == ["keep"])
    }

    @Test("the extension set is part of the key: a script refused without editheader compiles once it is enabled; warnings are new only once")
    func extensionSetsAreSeparate() throws {
        let dir = try ScratchDirectory("homing-sievecache")
        defer { dir.remove() }
        let path = dir.file("edit.sieve")
        try "require [\"editheader\", \"date\"];\naddheader \"X-Seen\" \"yes\";\nif date :is \"date\" \"century\" \"20\" { keep; }\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        let cache = SieveScriptCache()
        do {
            _ = try cache.load(path, options: options(maxSize: 1 << 20))
            Issue.record("editheader compiled although it is off by default")
        } catch {
            #expect("\(error)" == "\(path): line 1: error: require command: unknown Sieve capability `editheader'.")
            guard case .compile(_, let failure) = error else { return }
            #expect(failure.lines(scriptName: "edit").last == "edit: error: validation failed.")
        }
        let enabled = try SieveExtensionSet.parse(extensions: "+editheader").set
        let first = try #require(try cache.load(path, options: options(maxSize: 1 << 20, enabled)))
        #expect(first.isNew)
        #expect(first.script.name == "edit")
        #expect(first.script.warnings.map(\.description) == ["line 3: warning: specified date part `century' is not known."])
        let again = try #require(try cache.load(path, options: options(maxSize: 1 << 20, enabled)))
        #expect(!again.isNew)
    }
}
