import FuzzSupport
import HomingSieve

/// libFuzzer target: a message through `SieveMessage` (header scanner and parser),
/// `SieveMIMEParser` (multipart and `message/rfc822` structure), the body extractor for each
/// `body` transform (transfer and charset decoding, HTML to text), and every header value
/// through `SieveHeaderDecoder` (RFC 2047), `SieveAddressList` and `SieveDateTime`.
///
/// Checked: the MIME tree's ranges lie inside the bytes parsed, each part inside its parent,
/// and the message size with CRLF line ends is at least the stored size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let input = FuzzInput.bytes(data, size, limit: 32 * 1024) else { return 0 }
    let message = SieveMessage(bytes: input, maxHeaderSize: 8 * 1024, maxBodyBytes: 16 * 1024)
    fuzzCheck(message.storedSize == input.count, "storedSize \(message.storedSize) for \(input.count) bytes")
    fuzzCheck(message.size >= message.storedSize, "size \(message.size) below the stored size \(message.storedSize)")
    fuzzCheck(
        (0...input.count).contains(message.bodyOffset), "body offset \(message.bodyOffset) outside the message")
    for field in message.headerFields {
        _ = SieveHeaderDecoder.decode(field.rawValue)
        _ = SieveAddressList.parse(field.rawValue)
        _ = SieveDateTime.parse(field.rawValue)
        _ = SieveMIMEContentType.parse(field.rawValue)
    }
    do throws(SieveMessageError) {
        for transform in transforms { _ = try message.bodyTexts(transform) }
        let (body, root) = try message.mimeStructure()
        checkRanges(root, within: 0..<body.count, depth: 0)
    } catch {
        fuzzCheck(false, "a message in memory cannot be read: \(error)")
    }
    // The whole input as one MIME entity (a body part with its own header).
    checkRanges(SieveMIMEParser.parse(input[...]), within: 0..<input.count, depth: 0)
    return 0
}

private let transforms: [SieveBodyTransform] = [
    .raw, .text, .content([""]), .content(["text/html"]), .content(["message/rfc822", "multipart"]),
]

private func checkRanges(_ entity: SieveMIMEEntity, within bounds: Range<Int>, depth: Int) {
    fuzzCheck(depth <= SieveMIMEParser.maxDepth + 1, "MIME nesting deeper than \(SieveMIMEParser.maxDepth)")
    fuzzCheck(
        entity.bodyRange.clamped(to: bounds) == entity.bodyRange,
        "body range \(entity.bodyRange) outside \(bounds)")
    fuzzCheck(
        entity.headerRange.isEmpty || entity.headerRange.clamped(to: bounds) == entity.headerRange,
        "header range \(entity.headerRange) outside \(bounds)")
    switch entity.content {
    case .leaf:
        break
    case .multipart(let prologue, let parts, let epilogue):
        for range in [prologue, epilogue] {
            fuzzCheck(
                range.isEmpty || range.clamped(to: entity.bodyRange) == range,
                "prologue or epilogue \(range) outside the body \(entity.bodyRange)")
        }
        for part in parts { checkRanges(part, within: entity.bodyRange, depth: depth + 1) }
    case .message(let enclosed):
        checkRanges(enclosed, within: entity.bodyRange, depth: depth + 1)
    }
}

@main
enum FuzzMIMEMain {
    static func main() {
        runFuzzer(fuzzMIME)
    }
}
