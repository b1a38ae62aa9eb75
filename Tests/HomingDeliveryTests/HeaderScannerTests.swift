import Testing

@testable import HomingDelivery

@Suite("Header scanning for log lines")
struct HeaderScannerTests {
    @Test("Message-ID, Subject and From are found, folded lines unfolded")
    func findsHeaders() {
        var scanner = HeaderScanner()
        scanner.feed(Array("Message-ID: <abc@example.org>\nSubject: hello\n\tworld\nFrom: A <a@b>\n\nbody\nSubject: no\n".utf8))
        scanner.finish()
        #expect(scanner.messageID == "<abc@example.org>")
        #expect(scanner.values["subject"] == "hello world")
        #expect(scanner.values["from"] == "A <a@b>")
    }

    @Test("headers in the body are not read, and the first occurrence wins")
    func stopsAtBody() {
        var scanner = HeaderScanner()
        for byte in Array("Subject: one\nsubject: two\n\nMessage-ID: <body>\n".utf8) { scanner.feed([byte]) }
        scanner.finish()
        #expect(scanner.values["subject"] == "one")
        #expect(scanner.messageID == nil)
    }

    @Test("a message without a header section gives nothing")
    func noHeaders() {
        var scanner = HeaderScanner()
        scanner.feed(Array("\nMessage-ID: <x>\n".utf8))
        scanner.finish()
        #expect(scanner.values.isEmpty)
    }

    @Test("scanning stops at the limit")
    func limit() {
        var scanner = HeaderScanner(limit: 20)
        scanner.feed(Array("X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nMessage-ID: <x>\n\n".utf8))
        scanner.finish()
        #expect(scanner.messageID == nil)
    }

    @Test("limits at a chunk boundary, CR before LF, long lines, blanks around names: as the byte-at-a-time reference does, fed in any chunk sizes")
    func matchesReference() {
        var random = SeededGenerator(seed: 12)
        let names = ["Subject", "SUBJECT", "from", " From ", "Message-ID", "message-id\t", "X-Other", "Received", ""]
        let values = ["", " hello", "\tworld\t", " a\tb ", " <id@example.org>", String(repeating: "x", count: 1_200), " ü é"]
        for round in 0..<400 {
            var text = ""
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                text += names.randomElement(using: &random)! + ":" + values.randomElement(using: &random)!
                text += Bool.random(using: &random) ? "\r\n" : "\n"
                if Int.random(in: 0..<4, using: &random) == 0 { text += (Bool.random(using: &random) ? " " : "\t") + "folded\n" }
            }
            text += Bool.random(using: &random) ? "\nbody\nSubject: body\n" : ""
            let bytes = Array(text.utf8)
            let limit = Bool.random(using: &random) ? 256 * 1024 : Int.random(in: 0...max(1, bytes.count), using: &random)
            var reference = ReferenceHeaderScanner(limit: limit)
            reference.feed(bytes)
            reference.finish()
            var scanner = HeaderScanner(limit: limit)
            var offset = 0
            while offset < bytes.count {
                let size = Int.random(in: 1...max(1, bytes.count / 3 + 1), using: &random)
                scanner.feed(bytes[offset..<min(bytes.count, offset + size)])
                offset += size
            }
            scanner.finish()
            #expect(scanner.values == reference.values, "round \(round), limit \(limit): \(text.debugDescription)")
        }
    }
}

/// The scanner as first written, a byte at a time on Strings: what the byte-level one must
/// answer.
private struct ReferenceHeaderScanner {
    var values: [String: String] = [:]
    let wanted: Set<String> = ["message-id", "subject", "from"]
    var line: [UInt8] = []
    var current: [UInt8] = []
    var scanned = 0
    let limit: Int
    var done = false

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ bytes: [UInt8]) {
        guard !done else { return }
        for byte in bytes {
            scanned += 1
            if scanned > limit {
                finish()
                return
            }
            if byte == UInt8(ascii: "\n") {
                endLine()
                if done { return }
            } else if line.count < 998 {
                line.append(byte)
            }
        }
    }

    mutating func finish() {
        if !done {
            if !line.isEmpty { endLine() }
            commit()
            done = true
        }
    }

    mutating func endLine() {
        var text = line
        line.removeAll()
        if text.last == UInt8(ascii: "\r") { text.removeLast() }
        if text.isEmpty {
            commit()
            done = true
            return
        }
        if text.first == UInt8(ascii: " ") || text.first == UInt8(ascii: "\t") {
            if !current.isEmpty, current.count < 998 { current.append(contentsOf: text) }
            return
        }
        commit()
        current = text
    }

    mutating func commit() {
        defer { current.removeAll() }
        guard let colon = current.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = trim(String(decoding: current[..<colon], as: UTF8.self).lowercased())
        guard wanted.contains(name), values[name] == nil else { return }
        let value = String(decoding: current[(colon + 1)...], as: UTF8.self)
        values[name] = trim(String(value.map { $0 == "\t" ? " " : $0 }))
    }

    func trim(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// SplitMix64: the same inputs on every run, so a failing round can be reproduced.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
