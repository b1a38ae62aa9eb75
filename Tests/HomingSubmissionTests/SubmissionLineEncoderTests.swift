import HomingSubmission
import Testing

private func encode(_ mode: SubmissionLineEncoder.Mode, _ chunks: [String]) -> String {
    var encoder = SubmissionLineEncoder(mode: mode)
    var out: [UInt8] = []
    for chunk in chunks { out += encoder.encode(Array(chunk.utf8)) }
    out += encoder.finish()
    return String(decoding: out, as: UTF8.self)
}

@Suite("Submission line encoder")
struct SubmissionLineEncoderTests {
    @Test("SMTP: LF and bare CR become CRLF, dot lines are stuffed, the terminator is added")
    func smtp() {
        #expect(encode(.smtp, ["a\n.b\r\n..c\rd\n.\n", "e"]) == "a\r\n..b\r\n...c\r\nd\r\n..\r\ne\r\n.\r\n")
    }

    @Test("SMTP: a CRLF split between chunks and a dot at a chunk's start are handled")
    func smtpChunks() {
        #expect(encode(.smtp, ["a\r", "\n", ".x\r\n"]) == "a\r\n..x\r\n.\r\n")
        #expect(encode(.smtp, ["a\r"]) == "a\r\n.\r\n")
        #expect(encode(.smtp, [""]) == ".\r\n")
    }

    @Test("sendmail: CRLF becomes LF, no stuffing, a final line end is added")
    func sendmail() {
        #expect(encode(.sendmail, ["a\r\n.b\r", "\nc"]) == "a\n.b\nc\n")
    }
}
