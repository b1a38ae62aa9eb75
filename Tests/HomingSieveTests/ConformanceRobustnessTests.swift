import Foundation
import Testing

@testable import HomingSieve

/// Hostile input: huge header values, deep and wide MIME trees, wildcard patterns built to
/// backtrack, invalid UTF-8, deeply nested scripts. None may crash or hang.
@Suite("Conformance: robustness against hostile input")
struct ConformanceRobustnessTests {
    /// Runs `body` and returns how long it took, in seconds.
    private func timed(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    @Test("a 5 MB header value is bounded and matching it ends quickly")
    func hugeHeader() throws {
        let value = String(repeating: "spam ", count: 1_000_000)
        let text = "From: a@example.org\nSubject: " + value + "\nX-After: yes\n\nbody\n"
        let message = SieveMessage(text: text)
        #expect(message.headerTruncated)
        #expect(message.headerFields.first?.name == "From")
        var outcome: SieveResult?
        let seconds = try timed {
            outcome = try SieveInterpreter.run(
                SieveCompiledScript.compile("if header :contains \"subject\" \"ham\" { discard; }"), message: message,
                envelope: conformanceEnvelope, environment: ConformanceEnvironment())
        }
        #expect(outcome == implicitKeepOnly)
        #expect(seconds < 10)
    }

    @Test("a 5 MB header value kept whole (raised header bound) is matched within the subject bound")
    func hugeHeaderKept() throws {
        let value = String(repeating: "a", count: 5 << 20)
        let message = SieveMessage(text: "Subject: " + value + "b\nX-After: yes\n\nbody\n", maxHeaderSize: 8 << 20)
        #expect(message.headerTruncated == false)
        #expect(message.headerFields.map(\.name) == ["Subject", "X-After"])
        let script = """
            require ["regex", "variables", "fileinto"];
            if header :matches "subject" "*a*a*a*a*a*a*b" { fileinto "wildcards"; }
            if header :regex "subject" "(a|aa)*b$" { fileinto "regex"; }
            if header :contains "subject" "b" { fileinto "contains"; }
            if header :is "x-after" "yes" { fileinto "after"; }
            """
        var outcome: Result<SieveResult, SieveRuntimeError>?
        let seconds = try timed {
            let compiled = try SieveCompiledScript.compile(script)
            do throws(SieveRuntimeError) {
                outcome = .success(
                    try SieveInterpreter.run(
                        compiled, message: message, envelope: conformanceEnvelope, environment: ConformanceEnvironment()
                    ))
            } catch {
                outcome = .failure(error)
            }
        }
        // Only the first 1 MB of the value is looked at (maxMatchSubjectSize): the "b" at its end
        // is not seen, so no test on it holds, or the work limit stops the script.
        switch outcome {
        case .success(let result): #expect(result == filedInto("after"))
        case .failure(let error): #expect([2, 3].contains(error.location.line))
        case nil: Issue.record("no outcome")
        }
        #expect(seconds < 20)
    }

    @Test("10,000 nested MIME parts are parsed to a bounded depth without crashing")
    func deepMIME() throws {
        let depth = 10_000
        var text = "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
        for level in 1..<depth {
            text += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=\"b\(level)\"\n\n"
        }
        text += "--b\(depth - 1)\nContent-Type: text/plain\n\ndeep text\n"
        for level in stride(from: depth - 1, through: 0, by: -1) { text += "--b\(level)--\n" }
        let message = SieveMessage(text: text)
        var result: SieveResult?
        let seconds = try timed {
            result = try SieveInterpreter.run(
                SieveCompiledScript.compile("require \"body\";\nif body :text :contains \"deep text\" { discard; }"),
                message: message, envelope: conformanceEnvelope, environment: ConformanceEnvironment())
        }
        // Parts nested deeper than SieveMIMEParser.maxDepth (32) are not split any more, so the
        // text at the bottom is not a text part of its own: the test is false, not a crash.
        #expect(result == implicitKeepOnly)
        #expect(seconds < 30)
        var shallow = "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
        for level in 1..<20 { shallow += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=\"b\(level)\"\n\n" }
        shallow += "--b19\nContent-Type: text/plain\n\ndeep text\n"
        for level in stride(from: 19, through: 0, by: -1) { shallow += "--b\(level)--\n" }
        let found = try runSieve(
            "require \"body\";\nif body :text :is \"deep text\" { discard; }", realMessage: shallow)
        #expect(found.implicitKeep == false)
    }

    @Test("10,000 sibling MIME parts are all searched")
    func wideMIME() throws {
        var text = "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
        for part in 0..<10_000 { text += "--b\nContent-Type: text/plain\n\npart \(part)\n" }
        text += "--b--\n"
        let result = try runSieve(
            "require \"body\";\nif body :content \"text/plain\" :is \"part 9999\" { discard; }", realMessage: text)
        #expect(result.implicitKeep == false)
    }

    @Test("a backtracking :matches pattern on a 1 MB value ends with false or a work-limit error, quickly")
    func backtrackingWildcards() throws {
        let value = String(repeating: "a", count: 1 << 20)
        let text = "Subject: x\nX-Long: " + value + "\n\nbody\n"
        let message = SieveMessage(text: text)
        let compiled = try SieveCompiledScript.compile("if header :matches \"x-long\" \"*a*a*a*a*a*a*b\" { discard; }")
        var outcome: Result<SieveResult, SieveRuntimeError>?
        let seconds = timed {
            do throws(SieveRuntimeError) {
                outcome = .success(
                    try SieveInterpreter.run(
                        compiled, message: message, envelope: conformanceEnvelope, environment: ConformanceEnvironment()
                    ))
            } catch {
                outcome = .failure(error)
            }
        }
        switch outcome {
        case .success(let result): #expect(result == implicitKeepOnly)
        case .failure(let error): #expect(error.location.line == 1)
        case nil: Issue.record("no outcome")
        }
        #expect(seconds < 10)
    }

    @Test("a backtracking :regex pattern on a 1 MB value ends quickly")
    func backtrackingRegex() throws {
        let value = String(repeating: "a", count: 1 << 20)
        let message = SieveMessage(text: "X-Long: " + value + "\n\nbody\n")
        let compiled = try SieveCompiledScript.compile(
            "require \"regex\";\nif header :regex \"x-long\" \"(a|aa)*(a|aa)*(a|aa)*b\" { discard; }")
        let seconds = timed {
            _ = try? SieveInterpreter.run(
                compiled, message: message, envelope: conformanceEnvelope, environment: ConformanceEnvironment())
        }
        #expect(seconds < 20)
    }

    @Test("invalid UTF-8 in header fields and body does not crash matching")
    func invalidUTF8() throws {
        var bytes = Array("From: a@example.org\nSubject: caf".utf8)
        bytes += [0xE9, 0xFF, 0xC3]
        bytes += Array(" =?UTF-8?B?/w==?=\nTo: b\u{00}@example.com, \"x".utf8)
        bytes += [0xC0, 0x80]
        bytes += Array("\"@y.z\n\n".utf8)
        bytes += [0xFE, 0xFF, 0x0A]
        let message = SieveMessage(bytes: bytes)
        let script = """
            require ["body", "variables", "fileinto"];
            if header :matches "subject" "caf*" { set "s" "${1}"; }
            if address :all :matches "to" "*" { set "t" "${1}"; }
            if body :raw :contains "x" { stop; }
            fileinto "ok";
            """
        let result = try SieveInterpreter.run(
            SieveCompiledScript.compile(script), message: message, envelope: conformanceEnvelope,
            environment: ConformanceEnvironment())
        #expect(result == filedInto("ok"))
    }

    @Test("blocks nested 32 deep compile; 33 deep is a compile error with its line")
    func nestedIfs() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "if true {\n", count: depth) + "keep;\n" + String(repeating: "}\n", count: depth)
        }
        #expect(scriptCompileError(nested(32)) == nil)
        let error = try #require(scriptCompileError(nested(33)))
        #expect(error.kind == .nestingTooDeep)
        #expect(error.description == "line 33: error: cannot nest command blocks deeper than 32 levels.")
        let tests = String(repeating: "not ", count: 40) + "true"
        let testError = try #require(scriptCompileError("if \(tests) { keep; }"))
        #expect(testError.kind == .nestingTooDeep)
    }

    @Test("10,000 nested blocks are refused without exhausting the stack")
    func veryDeepScript() {
        let source = String(repeating: "if true {", count: 10_000) + String(repeating: "}", count: 10_000)
        #expect(scriptCompileError(source)?.kind == .nestingTooDeep)
        let list = String(repeating: "[", count: 10_000)
        #expect(scriptCompileError("require \(list);") != nil)
        let tests = String(repeating: "allof(", count: 10_000)
        #expect(scriptCompileError("if \(tests)") != nil)
    }

    @Test("an action loop past sieve_max_actions is a runtime error, not a huge result")
    func manyActions() throws {
        let script = "require \"fileinto\";\n" + (0..<100).map { "fileinto \"f\($0)\";" }.joined(separator: "\n")
        let error = try runtimeError(script)
        #expect(error?.description == "line 34: error: total number of actions exceeds the limit of 32.")
    }
}

/// Mutation fuzzing with a fixed seed: mutated scripts must compile or fail with a `SieveError`,
/// mutated messages must run or fail with a `SieveRuntimeError`; nothing may crash or hang.
@Suite("Conformance: mutation fuzzing")
struct ConformanceFuzzTests {
    /// A small deterministic generator (64-bit LCG), so a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
    }

    static let script = """
        require ["fileinto", "variables", "body", "regex", "relational", "comparator-i;ascii-numeric", "date",
                 "index", "imap4flags", "envelope", "subaddress", "encoded-character", "include", "duplicate"];
        if anyof (header :matches "subject" "*M?e*", address :detail :is "to" "lists") {
            set :lower :length "n" "${1}${hex:41}";
            if body :content "text" :regex "(sch|mis)[a-z]+" { addflag "\\\\Flagged"; }
        } elsif date :zone "+0100" :value "ge" :index 1 "received" "hour" "09" {
            fileinto :flags "$x" "INBOX.${n}";
        } else { if not exists ["x-a", "x-b"] { stop; } }
        if duplicate :handle "h" :seconds 10 { discard; }
        """

    private static let pieces = [
        "\"", "{", "}", "(", ")", "[", "]", ",", ";", ":", "#", "/*", "*/", "text:\n", "\n.\n", "\\", "${", "}",
        "if", "header", ":is", ":matches", "\u{00}", "\u{FFFD}", "99999999999999999999G", "${unicode:110000}",
    ]

    @Test("2,000 mutated scripts compile or fail with a compile error; those that compile run")
    func mutatedScripts() {
        var generator = Generator(state: 0x5EED)
        let message = SieveMessage(text: ConformanceRFC5173Tests.mime)
        let original = Array(Self.script.unicodeScalars)
        var compiled = 0
        for _ in 0..<2_000 {
            var scalars = original
            for _ in 0...generator.next(4) {
                let position = generator.next(scalars.count + 1)
                switch generator.next(3) {
                case 0 where position < scalars.count:
                    scalars.removeSubrange(position..<min(scalars.count, position + 1 + generator.next(8)))
                case 1:
                    let piece = Self.pieces[generator.next(Self.pieces.count)]
                    scalars.insert(contentsOf: piece.unicodeScalars, at: position)
                default:
                    if position < scalars.count, let other = scalars.indices.randomElement(using: &generator) {
                        scalars.swapAt(position, other)
                    }
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            guard let script = try? SieveCompiledScript.compile(text) else { continue }
            compiled += 1
            _ = try? SieveInterpreter.run(
                script, message: message, envelope: conformanceEnvelope, environment: ConformanceEnvironment())
        }
        #expect(compiled > 0)
        #expect(compiled < 2_000)
    }

    @Test("300 mutated MIME messages run without crashing")
    func mutatedMessages() throws {
        var generator = Generator(state: 0xF00D)
        let compiled = try SieveCompiledScript.compile(Self.script.replacingOccurrences(of: "\"include\", ", with: ""))
        let original = Array(crlf(ConformanceRFC5173Tests.mime).utf8)
        let noise: [UInt8] = [0x0A, 0x0D, 0x3D, 0x2D, 0x3A, 0x3B, 0x22, 0xFF, 0xC3, 0x00, 0x20, 0x09, 0x3F]
        for _ in 0..<300 {
            var bytes = original
            for _ in 0...generator.next(16) {
                let position = generator.next(bytes.count)
                switch generator.next(3) {
                case 0: bytes.removeSubrange(position..<min(bytes.count, position + 1 + generator.next(40)))
                case 1: bytes.insert(noise[generator.next(noise.count)], at: position)
                default: bytes[position] = noise[generator.next(noise.count)]
                }
            }
            do throws(SieveRuntimeError) {
                _ = try SieveInterpreter.run(
                    compiled, message: SieveMessage(bytes: bytes), envelope: conformanceEnvelope,
                    environment: ConformanceEnvironment())
            } catch {
                #expect(error.location.line >= 1)
            }
        }
    }
}

extension ConformanceFuzzTests.Generator: RandomNumberGenerator {
    mutating func next() -> UInt64 {
        UInt64(next(Int.max)) &* 2 &+ UInt64(next(2))
    }
}
