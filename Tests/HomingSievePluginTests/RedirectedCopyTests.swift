import Foundation
import Testing

@testable import HomingSievePlugin

@Suite("The redirected copy's header (Pigeonhole drops every Return-Path)")
struct RedirectedCopyTests {
    private func removing(_ header: String) -> String {
        String(decoding: RedirectedCopy.removingFields(named: "return-path", from: Array(header.utf8)), as: UTF8.self)
    }

    @Test("every Return-Path field goes, in any case and with its continuation lines; the rest stays byte for byte")
    func removesReturnPath() {
        #expect(
            removing("Return-Path: <a@x>\nFrom: A <a@x>\nreturn-path :\n <b@x>\n\tmore\nSubject: s\n\n")
                == "From: A <a@x>\nSubject: s\n\n")
        #expect(removing("From: A\r\nReturn-Path: <a@x>\r\nTo: b\r\n\r\n") == "From: A\r\nTo: b\r\n\r\n")
    }

    @Test("fields that only look alike stay: Return-Paths, X-Return-Path, a continuation line starting with Return-Path")
    func keepsOthers() {
        let header = "Return-Paths: x\nX-Return-Path: y\nSubject: a\n Return-Path: folded\n\n"
        #expect(removing(header) == header)
    }

    @Test("a header without a Return-Path, or without an ending blank line, is unchanged")
    func unchanged() {
        #expect(removing("From: a\nTo: b\n\n") == "From: a\nTo: b\n\n")
        #expect(removing("From: a\nReturn-Path: <x>") == "From: a\n")
        #expect(removing("") == "")
    }

    @Test("a new Message-ID names the host, one per call")
    func messageID() {
        let first = RedirectedCopy.newMessageID(hostname: "mx.example.com", now: .init(timeIntervalSince1970: 1_796_281_994))
        #expect(first.hasPrefix("<homing-sieve.1796281994.") && first.hasSuffix("@mx.example.com>"))
        #expect(first != RedirectedCopy.newMessageID(hostname: "mx.example.com", now: .init(timeIntervalSince1970: 1_796_281_994)))
        #expect(RedirectedCopy.newMessageID(hostname: "bad host<>", now: .init(timeIntervalSince1970: 0)).hasSuffix("@badhost>"))
    }
}
