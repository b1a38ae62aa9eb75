import Foundation
import FuzzSupport
import HomingSieve

/// libFuzzer target: a Sieve script that compiles is run by `SieveInterpreter` on two small
/// messages (a plain one with RFC 2047 headers and a multipart one), with an environment that
/// does nothing: no mailbox exists, nothing is a duplicate, `include` finds no script.
/// The result is formatted as `sieve-test` prints it. Runtime errors are fine (a script may
/// exceed the action or work limits); crashes, hangs and leaks are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSieveRun(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 8 * 1024),
        let source = try? SieveCompiledScript.decodeSource(input),
        let script = try? SieveCompiledScript.compile(source)
    else { return 0 }
    let envelope = SieveEnvelope(
        from: "sender@example.net", to: "user+detail@example.com", originalRecipient: "alias@example.com")
    for message in messages {
        do throws(SieveRuntimeError) {
            let result = try SieveInterpreter.run(
                script, message: message, envelope: envelope, environment: NullEnvironment(), settings: settings)
            fuzzCheck(!SieveResultFormatter.format(result).isEmpty, "an empty sieve-test result")
        } catch {
            fuzzCheck(!error.message.isEmpty, "a runtime error without a message")
        }
    }
    return 0
}

/// The default limits, with less work allowed per run so that a run stays short.
private let settings = SieveRuntimeSettings(maxWork: 200_000)

/// The world as a delivery with nothing in it sees it.
private struct NullEnvironment: SieveRuntimeEnvironment {
    func mailboxExists(_ mailbox: String) -> Bool { false }
    func isDuplicate(key: String) -> Bool { false }
    func loadInclude(name: String, location: SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript {
        throw SieveError(.syntax, at: SieveSourceLocation(line: 1, column: 1), "script \(name) not found")
    }
    var environmentItems: [String: String] {
        ["domain": "example.com", "host": "mx.example.com", "location": "MDA", "name": "Homing", "phase": "during"]
    }
    var now: Date { Date(timeIntervalSince1970: 1_700_000_000) }
}

private let messages: [SieveMessage] = [
    SieveMessage(
        text: """
            Return-Path: <sender@example.net>
            From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.net>
            To: User <user+detail@example.com>, other@example.org
            Cc: "List" <list@lists.example.org>
            Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= meeting
            Date: Tue, 14 Nov 2023 22:13:20 +0100
            Message-ID: <1234@example.net>
            X-Spam-Score: 5

            Hello,
            the meeting is at noon.
            """),
    SieveMessage(
        text: """
            From: sender@example.net
            To: user@example.com
            Subject: report
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            prologue
            --b1
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: quoted-printable

            caf=E9 au lait
            --b1
            Content-Type: text/html

            <html><body><p>Hi <b>there</b></p></body></html>
            --b1
            Content-Type: application/octet-stream
            Content-Transfer-Encoding: base64

            AAECAwQFBgc=
            --b1--
            epilogue
            """),
]

@main
enum FuzzSieveRunMain {
    static func main() {
        runFuzzer(fuzzSieveRun)
    }
}
