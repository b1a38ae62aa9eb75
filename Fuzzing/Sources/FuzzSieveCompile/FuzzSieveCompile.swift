import FuzzSupport
import HomingSieve

/// libFuzzer target: a Sieve script through the lexer, the parser and the validator
/// (`SieveCompiledScript.decodeSource`, `compile`, `diagnose`).
///
/// `compile` and `diagnose` must agree: a script compiles exactly when `diagnose` finds no
/// error, and every error has a message and a line inside the script.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSieveCompile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 16 * 1024) else { return 0 }
    let source: String
    do throws(SieveError) {
        source = try SieveCompiledScript.decodeSource(input)
    } catch {
        check(error, lines: input.count { $0 == 10 } + 1)
        return 0
    }
    let lines = source.utf8.count { $0 == 10 } + 1
    let compiled: Result<SieveCompiledScript, SieveError>
    do throws(SieveError) {
        compiled = .success(try SieveCompiledScript.compile(source))
    } catch {
        check(error, lines: lines)
        compiled = .failure(error)
    }
    let diagnosis = SieveCompiledScript.diagnose(source)
    for error in diagnosis.errors { check(error, lines: lines) }
    switch compiled {
    case .success(let script):
        fuzzCheck(diagnosis.errors.isEmpty, "compile succeeds but diagnose finds \(diagnosis.errors)")
        fuzzCheck(diagnosis.script == script, "diagnose compiles to another script than compile")
    case .failure(let error):
        fuzzCheck(!diagnosis.errors.isEmpty, "compile fails (\(error)) but diagnose finds no error")
        fuzzCheck(diagnosis.script == nil, "compile fails (\(error)) but diagnose returns a script")
    }
    return 0
}

private func check(_ error: SieveError, lines: Int) {
    fuzzCheck(!error.message.isEmpty, "a Sieve error without a message: \(error.kind)")
    fuzzCheck(
        (1...lines).contains(error.location.line),
        "a Sieve error at line \(error.location.line) of a \(lines)-line script: \(error)")
}

@main
enum FuzzSieveCompileMain {
    static func main() {
        runFuzzer(fuzzSieveCompile)
    }
}
