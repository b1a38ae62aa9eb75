import FuzzSupport
import HomingQuota

/// libFuzzer target: `maildirsize` contents through `MaildirSizeContents.parse`.
///
/// Checked: a file that parses as valid is one limits line and `usageLineCount` usage lines;
/// the limits line Homing writes for the parsed limits reads back to the same limits; a file
/// made of that limits line and one usage line per the parsed usage is valid and gives the
/// same usage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMaildirSize(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 16 * 1024) else { return 0 }
    let contents = MaildirSizeContents.parse(input)
    fuzzCheck(contents.usageLineCount >= 0, "negative usage line count")
    if contents.isValid {
        let newlines = input.count { $0 == 10 }
        fuzzCheck(
            newlines == contents.usageLineCount + 1,
            "a valid file of \(newlines) lines has \(contents.usageLineCount) usage lines")
    }
    let limitsLine = MaildirSizeContents.limitsLine(contents.limits)
    fuzzCheck(
        MaildirSizeContents.parseLimitsLine(limitsLine[...]) == contents.limits,
        "the limits line \(limitsLine) does not read back as \(contents.limits)")
    let rewritten =
        limitsLine + "\n"
        + MaildirSizeContents.usageLine(bytes: contents.usage.bytes, messages: contents.usage.messages)
    let reread = MaildirSizeContents.parse(Array(rewritten.utf8))
    fuzzCheck(reread.isValid, "the rewritten file is not valid: \(rewritten.debugDescription)")
    fuzzCheck(reread.usage == contents.usage, "the rewritten file gives other usage: \(rewritten.debugDescription)")
    return 0
}

@main
enum FuzzMaildirSizeMain {
    static func main() {
        runFuzzer(fuzzMaildirSize)
    }
}
