import Testing

@testable import HomingDelivery

@Suite("CRLF to LF while streaming")
struct LineEndingNormalizerTests {
    private func normalize(_ chunks: [String]) -> (String, Int, Int) {
        var normalizer = LineEndingNormalizer()
        var out: [UInt8] = []
        for chunk in chunks { normalizer.normalize(Array(chunk.utf8), into: &out) }
        normalizer.finish(into: &out)
        return (String(decoding: out, as: UTF8.self), normalizer.size, normalizer.lineFeeds)
    }

    @Test("CRLF becomes LF and bare LF stays")
    func crlf() {
        let (text, size, lineFeeds) = normalize(["a\r\nb\nc\r\n"])
        #expect(text == "a\nb\nc\n")
        #expect(size == 6)
        #expect(lineFeeds == 3)
    }

    @Test("a CR at the end of one chunk and LF at the start of the next make one LF")
    func splitAcrossChunks() {
        #expect(normalize(["a\r", "\nb\r", "\n"]).0 == "a\nb\n")
    }

    @Test("a bare CR is kept, also at the very end")
    func bareCR() {
        #expect(normalize(["a\rb\r", "c\r"]).0 == "a\rb\rc\r")
        #expect(normalize(["x\r\r\n"]).0 == "x\r\n")
    }

    @Test("every split position of a sample gives the same result")
    func everySplit() {
        let sample = "Subject: x\r\n\r\nline\r\n\rodd\r\n"
        let whole = normalize([sample]).0
        let bytes = Array(sample)
        for cut in 0...bytes.count {
            #expect(normalize([String(bytes[..<cut]), String(bytes[cut...])]).0 == whole)
        }
    }

    /// The rule spelled out byte by byte: CR LF becomes LF, anything else is kept.
    private static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
                index += 1
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    @Test("random CR/LF mixes in random chunks, contiguous or not, match the byte-by-byte rule, sizes and LF counts included")
    func randomChunks() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [13, 10, 13, 10, UInt8(ascii: "a"), UInt8(ascii: ".")]
        for round in 0..<500 {
            let length = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            var normalizer = LineEndingNormalizer()
            var out: [UInt8] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...8, using: &generator))
                let chunk = bytes[start..<end]
                // Every other round through a collection without contiguous storage.
                if round % 2 == 0 {
                    normalizer.normalize(chunk, into: &out)
                } else {
                    normalizer.normalize(chunk.lazy.map { $0 }, into: &out)
                }
                start = end
            }
            normalizer.finish(into: &out)
            let expected = Self.reference(bytes)
            #expect(out == expected, "\(bytes)")
            #expect(normalizer.size == expected.count)
            #expect(normalizer.lineFeeds == expected.filter { $0 == 10 }.count)
        }
    }

    @Test("line feeds are counted exactly in long chunks (the 32-byte vector path) at every length and offset")
    func lineFeedCount() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [10, 13, UInt8(ascii: "a"), 10, 0, 255]
        let bytes = (0..<400).map { _ in alphabet.randomElement(using: &generator)! }
        for start in 0..<40 {
            for length in stride(from: 0, through: bytes.count - start, by: 7) {
                let slice = Array(bytes[start..<(start + length)])
                let counted = slice.withUnsafeBufferPointer { LineEndingNormalizer.countLineFeeds($0) }
                #expect(counted == slice.filter { $0 == 10 }.count, "start \(start), length \(length)")
            }
        }
        // Whole chunks of a few hundred bytes through the normalizer.
        for _ in 0..<100 {
            let message = (0..<Int.random(in: 0..<2000, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            var normalizer = LineEndingNormalizer()
            var out: [UInt8] = []
            var start = 0
            while start < message.count {
                let end = min(message.count, start + Int.random(in: 1...300, using: &generator))
                normalizer.normalize(message[start..<end], into: &out)
                start = end
            }
            normalizer.finish(into: &out)
            #expect(out == Self.reference(message))
            #expect(normalizer.lineFeeds == out.filter { $0 == 10 }.count)
        }
    }
}
