import NIOCore
import Testing

@testable import HomingLMTP

/// A framer event with message chunks merged, for comparing runs split differently.
enum FramedEvent: Equatable, CustomStringConvertible {
    case line(String)
    case lineTooLong
    case data([UInt8])
    case endOfData
    case bdat([UInt8])
    case endOfBDATChunk

    var description: String {
        switch self {
        case .line(let text): return "line(\(text.debugDescription))"
        case .lineTooLong: return "lineTooLong"
        case .data(let bytes): return "data(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
        case .endOfData: return "endOfData"
        case .bdat(let bytes): return "bdat(\(bytes.count) bytes)"
        case .endOfBDATChunk: return "endOfBDATChunk"
        }
    }
}

/// Feeds `pieces` one by one, switching modes like a session would (`DATA` → data mode,
/// `BDAT n` → n bytes), and returns the events with adjacent chunks merged.
func frame(_ pieces: [[UInt8]], maximumLineLength: Int = 4101) -> [FramedEvent] {
    var framer = LMTPInputFramer(maximumLineLength: maximumLineLength)
    var events: [FramedEvent] = []
    func add(_ event: FramedEvent) {
        switch (events.last, event) {
        case (.data(let previous)?, .data(let more)):
            events[events.count - 1] = .data(previous + more)
        case (.bdat(let previous)?, .bdat(let more)):
            events[events.count - 1] = .bdat(previous + more)
        default:
            events.append(event)
        }
    }
    for piece in pieces {
        framer.append(ByteBuffer(bytes: piece))
        while let event = framer.next() {
            switch event {
            case .line(let buffer):
                let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
                add(.line(text))
                let words = text.split(separator: " ")
                if text.uppercased() == "DATA" {
                    framer.beginData()
                } else if words.first?.uppercased() == "BDAT", words.count >= 2, let size = Int(words[1]) {
                    framer.beginBDAT(byteCount: size)
                }
            case .lineTooLong: add(.lineTooLong)
            case .dataChunk(let buffer): add(.data(Array(buffer.readableBytesView)))
            case .endOfData: add(.endOfData)
            case .bdatChunk(let buffer): add(.bdat(Array(buffer.readableBytesView)))
            case .endOfBDATChunk: add(.endOfBDATChunk)
            }
        }
    }
    return events
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("LMTP input framer")
struct LMTPInputFramerTests {
    static let sampleSession = bytes(
        "LHLO client\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\nDATA\r\n"
            + "Subject: x\r\n\r\n..dot\r\nline\n...\n.x\r\n.\rnot end\r\n.\r\n"
            + "BDAT 5\r\nab\r\n.BDAT 3 LAST\r\n\r\n.QUIT\r\n")

    @Test("a whole session in one read gives lines, unstuffed DATA, BDAT chunks")
    func wholeSession() {
        #expect(
            frame([Self.sampleSession]) == [
                .line("LHLO client"), .line("MAIL FROM:<a@b>"), .line("RCPT TO:<alice@example.com>"), .line("DATA"),
                .data(bytes("Subject: x\r\n\r\n.dot\r\nline\n..\nx\r\n\rnot end\r\n")), .endOfData,
                .line("BDAT 5"), .bdat(bytes("ab\r\n.")), .endOfBDATChunk,
                .line("BDAT 3 LAST"), .bdat(bytes("\r\n.")), .endOfBDATChunk,
                .line("QUIT"),
            ])
    }

    @Test("splitting the session at every byte position gives the same events")
    func everySplit() {
        let expected = frame([Self.sampleSession])
        let input = Self.sampleSession
        for cut in 0...input.count {
            let pieces = [Array(input[..<cut]), Array(input[cut...])]
            #expect(frame(pieces) == expected, "split at \(cut)")
        }
        for cut1 in stride(from: 0, through: input.count, by: 7) {
            for cut2 in cut1...input.count {
                let pieces = [Array(input[..<cut1]), Array(input[cut1..<cut2]), Array(input[cut2...])]
                #expect(frame(pieces) == expected, "split at \(cut1), \(cut2)")
            }
        }
    }

    @Test("one byte at a time gives the same events")
    func byteByByte() {
        #expect(frame(Self.sampleSession.map { [$0] }) == frame([Self.sampleSession]))
    }

    /// `body` sent after DATA and ended with `.`, then QUIT: read whole and in random pieces of
    /// 1 to `largest` bytes, it frames as the unstuffed body and the next command.
    private func expectUnstuffed(
        _ body: [UInt8], inPiecesUpTo largest: Int, using generator: inout SystemRandomNumberGenerator
    ) {
        let input = bytes("DATA\r\n") + body + bytes("\r\n.\r\nQUIT\r\n")
        let expected: [FramedEvent] = [.line("DATA"), .data(Self.unstuffed(body + [13, 10])), .endOfData, .line("QUIT")]
        #expect(frame([input]) == expected, "\(body)")
        var pieces: [[UInt8]] = []
        var start = 0
        while start < input.count {
            let end = min(input.count, start + Int.random(in: 1...largest, using: &generator))
            pieces.append(Array(input[start..<end]))
            start = end
        }
        #expect(frame(pieces) == expected, "\(body) in \(pieces.count) pieces")
    }

    /// Dot-unstuffing spelled out line by line: a line (up to and including its LF) that
    /// starts with `.` loses that dot.
    private static func unstuffed(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var atLineStart = true
        for byte in body {
            if atLineStart, byte == UInt8(ascii: ".") {
                atLineStart = false
                continue
            }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        return out
    }

    @Test("random dot-stuffed messages, read whole or in random pieces, give the byte-by-byte unstuffed text and the next command")
    func randomDotStuffing() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "."), UInt8(ascii: "a"), 13]
        for _ in 0..<400 {
            var body: [UInt8] = []
            for index in 0..<Int.random(in: 0..<12, using: &generator) {
                var line = (0..<Int.random(in: 0..<7, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
                // "." and ".\r" alone on a line would end the message early.
                if line == [UInt8(ascii: ".")] || line == [UInt8(ascii: "."), 13] { line.insert(UInt8(ascii: "a"), at: 0) }
                if index > 0 { body += Bool.random(using: &generator) ? [13, 10] : [10] }
                body += line
            }
            expectUnstuffed(body, inPiecesUpTo: 9, using: &generator)
        }
    }

    @Test("random messages with long lines, read whole or in pieces of up to 100 bytes, give the unstuffed text")
    func randomLongLines() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "a"), UInt8(ascii: "a"), 13, 10, 0x8A, 0xAE, 0x0A ^ 0x80]
        for _ in 0..<300 {
            var body: [UInt8] = []
            for index in 0..<Int.random(in: 0..<30, using: &generator) {
                var line = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }.filter { $0 != 10 }
                if Bool.random(using: &generator) { line.insert(UInt8(ascii: "."), at: 0) }
                if line == [UInt8(ascii: ".")] || line == [UInt8(ascii: "."), 13] { line.insert(UInt8(ascii: "a"), at: 0) }
                if index > 0 { body += Bool.random(using: &generator) ? [13, 10] : [10] }
                body += line
            }
            expectUnstuffed(body, inPiecesUpTo: 100, using: &generator)
        }
    }

    @Test("a bare LF dot line ends DATA and the LF before it belongs to the message")
    func bareLFEnd() {
        #expect(frame([bytes("DATA\nhello\n.\nNOOP\n")]) == [.line("DATA"), .data(bytes("hello\n")), .endOfData, .line("NOOP")])
        #expect(frame([bytes("DATA\r\nhello\r\n.\r\n")]) == [.line("DATA"), .data(bytes("hello\r\n")), .endOfData])
    }

    @Test("an empty message ends at once with no chunk")
    func emptyMessage() {
        #expect(frame([bytes("DATA\r\n.\r\n")]) == [.line("DATA"), .endOfData])
    }

    @Test("dot-stuffing is undone: ..x gives .x, ... gives ..")
    func dotUnstuffing() {
        #expect(
            frame([bytes("DATA\r\n..x\r\n...\r\n.\r\n")]) == [.line("DATA"), .data(bytes(".x\r\n..\r\n")), .endOfData])
    }

    @Test("a dot line not alone is message text, a dot in the middle of a line is kept")
    func dotsInsideLines() {
        #expect(
            frame([bytes("DATA\r\na.b\r\n.\r.\r\n. \r\n.\r\n")])
                == [.line("DATA"), .data(bytes("a.b\r\n\r.\r\n \r\n")), .endOfData])
    }

    @Test("NUL bytes inside DATA pass through")
    func nulInData() {
        #expect(frame([[0x44, 0x41, 0x54, 0x41, 0x0A, 0x61, 0x00, 0x62, 0x0A, 0x2E, 0x0A]]) == [.line("DATA"), .data([0x61, 0x00, 0x62, 0x0A]), .endOfData])
    }

    @Test("long DATA lines are handed out in chunks as they arrive, never buffered")
    func longDataLines() {
        var framer = LMTPInputFramer()
        framer.append(ByteBuffer(string: "DATA\r\n"))
        guard case .line = framer.next() else {
            Issue.record("no DATA line")
            return
        }
        framer.beginData()
        var total = 0
        for _ in 0..<100 {
            framer.append(ByteBuffer(repeating: UInt8(ascii: "x"), count: 10_000))
            guard case .dataChunk(let chunk) = framer.next() else {
                Issue.record("no chunk")
                return
            }
            total += chunk.readableBytes
            #expect(framer.next() == nil)
            #expect(framer.bufferedByteCount == 0)
        }
        framer.append(ByteBuffer(string: "\r\n.\r\n"))
        guard case .dataChunk(let end) = framer.next() else {
            Issue.record("no final chunk")
            return
        }
        #expect(String(buffer: end) == "\r\n")
        #expect(framer.next() == .endOfData)
        #expect(total == 1_000_000)
        #expect(framer.currentMode == .command)
    }

    @Test("BDAT hands out exactly the announced bytes, whatever they hold")
    func bdatByteCounts() {
        let events = frame([bytes("BDAT 10\r\n0123\r\n.\r\n"), bytes("9BDAT 0 LAST\r\nQUIT\r\n")])
        #expect(
            events == [
                .line("BDAT 10"), .bdat(bytes("0123\r\n.\r\n9")), .endOfBDATChunk,
                .line("BDAT 0 LAST"), .endOfBDATChunk, .line("QUIT"),
            ])
    }

    @Test("a BDAT chunk larger than the reads arrives in several pieces and counts down")
    func bdatAcrossReads() {
        var framer = LMTPInputFramer()
        framer.append(ByteBuffer(string: "BDAT 6\r\nabc"))
        #expect(framer.next() == .line(ByteBuffer(string: "BDAT 6")))
        framer.beginBDAT(byteCount: 6)
        #expect(framer.next() == .bdatChunk(ByteBuffer(string: "abc")))
        #expect(framer.currentMode == .bdat(remaining: 3))
        #expect(framer.next() == nil)
        framer.append(ByteBuffer(string: "defNOOP\r\n"))
        #expect(framer.next() == .bdatChunk(ByteBuffer(string: "def")))
        #expect(framer.next() == .endOfBDATChunk)
        #expect(framer.next() == .line(ByteBuffer(string: "NOOP")))
    }

    @Test("a command line over the limit gives lineTooLong once its end arrives, then the next command works")
    func lineTooLong() {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 5000)
        #expect(frame([bytes("NOOP ") + long + bytes("\r\nQUIT\r\n")]) == [.lineTooLong, .line("QUIT")])
        // Delivered in small reads: nothing is kept beyond the limit.
        var framer = LMTPInputFramer()
        framer.append(ByteBuffer(string: "NOOP "))
        for _ in 0..<100 {
            framer.append(ByteBuffer(repeating: UInt8(ascii: "a"), count: 1000))
            #expect(framer.next() == nil)
            #expect(framer.bufferedByteCount <= 4102)
        }
        framer.append(ByteBuffer(string: "\r"))
        #expect(framer.next() == nil)
        framer.append(ByteBuffer(string: "\nNOOP\r\n"))
        #expect(framer.next() == .lineTooLong)
        #expect(framer.next() == .line(ByteBuffer(string: "NOOP")))
    }

    @Test("a line of exactly 4101 bytes is accepted, 4102 is too long, even split before the LF")
    func lineLimitBoundary() {
        let exact = [UInt8](repeating: UInt8(ascii: "a"), count: 4101)
        #expect(frame([exact + bytes("\r"), bytes("\n")]) == [.line(String(repeating: "a", count: 4101))])
        #expect(frame([exact, bytes("\r\n")]) == [.line(String(repeating: "a", count: 4101))])
        #expect(frame([exact + bytes("a\r"), bytes("\n")]) == [.lineTooLong])
        #expect(frame([exact + bytes("a"), bytes("\n")]) == [.lineTooLong])
    }

    @Test("bare LF and CRLF both end command lines; an empty line is a line")
    func lineEnds() {
        #expect(frame([bytes("NOOP\nRSET\r\n\r\n")]) == [.line("NOOP"), .line("RSET"), .line("")])
    }
}
