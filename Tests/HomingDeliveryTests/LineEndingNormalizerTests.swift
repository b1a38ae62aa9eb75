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
}
