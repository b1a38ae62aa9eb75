import Benchmark
import Foundation
import HomingDelivery
import HomingLMTP
import HomingSieve
import NIOCore

/// The hot paths of one delivery (names without spaces: they become the file names in
/// Thresholds/), each on a 4 KB message (the benchmark's typical mail) and,
/// where the cost grows with the size, a 1 MB one. Time figures are for people (`make
/// bench-micro`); the allocation counts are checked against Thresholds/ by `make
/// bench-micro-check`, because they do not depend on the machine's load.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(2),
        maxIterations: 20_000,
        // Allocation counts are exact for a toolchain: allow one or two more (a runtime
        // version may add one), not a new allocation per line or per chunk.
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2])]
    )

    // MARK: LMTP framer

    Benchmark("Framer_DATA_4KB_one_read") { benchmark in
        let input = Samples.data4KRead
        for _ in benchmark.scaledIterations { blackHole(Samples.frame(input)) }
    }

    Benchmark("Framer_DATA_1MB_64KB_reads") { benchmark in
        let input = Samples.data1MReads
        for _ in benchmark.scaledIterations { blackHole(Samples.frame(input)) }
    }

    Benchmark("Framer_20_command_lines") { benchmark in
        let input = [Samples.commands]
        for _ in benchmark.scaledIterations { blackHole(Samples.frameCommands(input)) }
    }

    // MARK: Line endings

    Benchmark("LineEndings_4KB_CRLF_to_LF") { benchmark in
        let message = Samples.message4K
        var output: [UInt8] = []
        output.reserveCapacity(message.count + 1)
        for _ in benchmark.scaledIterations {
            output.removeAll(keepingCapacity: true)
            var normalizer = LineEndingNormalizer()
            normalizer.normalize(message, into: &output)
            normalizer.finish(into: &output)
            blackHole(normalizer.lineFeeds)
        }
    }

    Benchmark("LineEndings_1MB_CRLF_to_LF_64KB_chunks") { benchmark in
        let chunks = stride(from: 0, to: Samples.message1M.count, by: 64 * 1024).map {
            Array(Samples.message1M[$0..<min($0 + 64 * 1024, Samples.message1M.count)])
        }
        var output: [UInt8] = []
        output.reserveCapacity(64 * 1024 + 1)
        for _ in benchmark.scaledIterations {
            var normalizer = LineEndingNormalizer()
            for chunk in chunks {
                output.removeAll(keepingCapacity: true)
                normalizer.normalize(chunk, into: &output)
            }
            normalizer.finish(into: &output)
            blackHole(normalizer.size)
        }
    }

    // MARK: Header scan

    Benchmark("HeaderScan_4KB") { benchmark in
        let message = Samples.lf(Samples.message4K)
        for _ in benchmark.scaledIterations {
            var scanner = HeaderScanner()
            scanner.feed(message)
            scanner.finish()
            blackHole(scanner.messageID)
        }
    }

    // MARK: Sieve

    Benchmark("SieveMatch_contains_casemap_subject") { benchmark in
        let subject = "Re: [project] the minutes of Tuesday's meeting, and the agenda for the next one"
        for _ in benchmark.scaledIterations {
            var budget = SieveWorkBudget(limit: 1_000_000)
            blackHole(
                try? SieveMatcher.match(
                    subject, key: "VIAGRA", type: .contains, comparator: .asciiCasemap, budget: &budget))
        }
    }

    Benchmark("SieveMatch_matches_two_wildcards_subject") { benchmark in
        let subject = "Re: [project] the minutes of Tuesday's meeting, and the agenda for the next one"
        for _ in benchmark.scaledIterations {
            var budget = SieveWorkBudget(limit: 1_000_000)
            blackHole(
                try? SieveMatcher.match(
                    subject, key: "*meeting*next*", type: .matches, comparator: .asciiCasemap, budget: &budget))
        }
    }

    Benchmark("SieveMessage_header_4KB") { benchmark in
        let bytes = Samples.lf(Samples.message4K)
        for _ in benchmark.scaledIterations { blackHole(SieveMessage(bytes: bytes).headerFields.count) }
    }

    Benchmark("SieveScript_bench_default_4KB") { benchmark in
        let script = try SieveCompiledScript.compile(Samples.sieveScript)
        let envelope = SieveEnvelope(from: "sender@example.net", to: "user0001@example.com")
        let environment = QuietEnvironment()
        let bytes = Samples.lf(Samples.message4K)
        for _ in benchmark.scaledIterations {
            let message = SieveMessage(bytes: bytes)
            blackHole(try? SieveInterpreter.run(script, message: message, envelope: envelope, environment: environment))
        }
    }
}

/// The inputs, made once.
enum Samples {
    /// The script bench/compare_dovecot.py installs as `sieve_default`.
    static let sieveScript = """
        require ["fileinto"];
        if header :contains "subject" ["[spam]", "viagra"] { fileinto "Junk"; stop; }
        if address :domain :is "from" "lists.example.net" { fileinto "Lists"; stop; }

        """

    /// A message of about `size` bytes with CRLF line ends: the headers Postfix and a mail
    /// client write, then 72-column body lines, some starting with a dot.
    static func message(size: Int) -> [UInt8] {
        var text = """
            Return-Path: <sender@example.net>\r
            Received: from mx.example.net (mx.example.net [192.0.2.10])\r
            \tby mail.example.com (Postfix) with ESMTPS id 4Qx1Yz2abcdZ\r
            \tfor <user0001@example.com>; Tue, 14 Nov 2023 22:13:20 +0100 (CET)\r
            From: Sender Name <sender@example.net>\r
            To: User <user0001@example.com>\r
            Subject: Re: [project] the minutes of Tuesday's meeting\r
            Date: Tue, 14 Nov 2023 22:13:20 +0100\r
            Message-ID: <20231114221320.1234@example.net>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 8bit\r
            \r

            """
        var line = 0
        while text.utf8.count < size {
            line += 1
            let lead = line % 9 == 0 ? "." : ""
            text += lead + "Line \(line) of the body, long enough to look like the prose of a real mail.\r\n"
        }
        return Array(text.utf8)
    }

    static let message4K = message(size: 4 * 1024)
    static let message1M = message(size: 1024 * 1024)

    /// The message as sent after DATA: dot-stuffed, ended by `.` on a line of its own.
    static func dataInput(_ message: [UInt8]) -> ByteBuffer {
        var stuffed: [UInt8] = []
        stuffed.reserveCapacity(message.count + message.count / 50 + 5)
        var atLineStart = true
        for byte in message {
            if atLineStart, byte == UInt8(ascii: ".") { stuffed.append(byte) }
            stuffed.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        stuffed.append(contentsOf: Array(".\r\n".utf8))
        return ByteBuffer(bytes: stuffed)
    }

    /// The DATA input of `message4K` in one read, and of `message1M` in 64 KB reads: made once,
    /// outside what is measured.
    static let data4KRead = [dataInput(message4K)]
    static let data1MReads = reads(dataInput(message1M), size: 64 * 1024)

    /// `buffer` cut into reads of `size` bytes, as the socket hands them over.
    static func reads(_ buffer: ByteBuffer, size: Int) -> [ByteBuffer] {
        stride(from: 0, to: buffer.readableBytes, by: size).map {
            buffer.getSlice(at: buffer.readerIndex + $0, length: min(size, buffer.readableBytes - $0))!
        }
    }

    /// A transaction's command lines.
    static let commands: ByteBuffer = {
        var text = "LHLO mx.example.com\r\nMAIL FROM:<sender@example.net> SIZE=4096 BODY=8BITMIME\r\n"
        for index in 0..<17 { text += "RCPT TO:<user\(index)@example.com> NOTIFY=NEVER\r\n" }
        text += "RSET\r\n"
        return ByteBuffer(string: text)
    }()

    /// The message with LF line ends, as it is stored and as Sieve reads it.
    static func lf(_ message: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var normalizer = LineEndingNormalizer()
        normalizer.normalize(message, into: &output)
        normalizer.finish(into: &output)
        return output
    }

    /// Frames DATA input to its end, returning the message bytes seen.
    static func frame(_ reads: [ByteBuffer]) -> Int {
        var framer = LMTPInputFramer()
        framer.beginData()
        var bytes = 0
        for read in reads {
            framer.append(read)
            while let event = framer.next() {
                switch event {
                case .dataChunk(let chunk): bytes += chunk.readableBytes
                case .endOfData: return bytes
                default: break
                }
            }
        }
        return bytes
    }

    /// Frames command lines, returning how many were found.
    static func frameCommands(_ reads: [ByteBuffer]) -> Int {
        var framer = LMTPInputFramer()
        var lines = 0
        for read in reads {
            framer.append(read)
            while let event = framer.next() {
                if case .line = event { lines += 1 }
            }
        }
        return lines
    }
}

/// A delivery's Sieve environment with nothing in it: no mailbox exists, nothing is a duplicate.
struct QuietEnvironment: SieveRuntimeEnvironment {
    func mailboxExists(_ mailbox: String) -> Bool { false }
    func isDuplicate(key: String) -> Bool { false }
    func loadInclude(name: String, location: SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript {
        throw SieveError(.syntax, at: SieveSourceLocation(line: 1, column: 1), "script \(name) not found")
    }
    var environmentItems: [String: String] { ["domain": "example.com", "host": "mail.example.com"] }
    var now: Date { Date(timeIntervalSince1970: 1_700_000_000) }
}
