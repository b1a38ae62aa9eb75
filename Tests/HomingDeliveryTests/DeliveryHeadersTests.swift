import Foundation
import Testing

@testable import HomingDelivery

@Suite("Trace headers")
struct DeliveryHeadersTests {
    let date = Date(timeIntervalSince1970: 1_795_558_161)  // Tue, 24 Nov 2026 22:09:21 +0000

    @Test("one recipient: Return-Path, Delivered-To and Received with the for clause, as Dovecot writes them")
    func singleRecipient() {
        let headers = DeliveryHeaders(
            returnPath: "sender@example.org", deliveredTo: "alice@example.com",
            received: .init(
                from: "client.example.org", remoteIP: nil, by: "mx.example.com", id: "yH2XBBELBmv+TQAAg+zDdQ",
                envelopeFrom: "sender@example.org", forRecipient: "alice@example.com", date: date))
        let utc = TimeZone(identifier: "UTC")!
        #expect(DeliveryHeaders.rfc5322Date(date, timeZone: utc) == "Tue, 24 Nov 2026 22:09:21 +0000")
        let expectedDate = DeliveryHeaders.rfc5322Date(date)
        #expect(
            headers.text == """
                Return-Path: <sender@example.org>
                Delivered-To: alice@example.com
                Received: from client.example.org
                \tby mx.example.com with LMTP
                \tid yH2XBBELBmv+TQAAg+zDdQ
                \t(envelope-from <sender@example.org>)
                \tfor <alice@example.com>; \(expectedDate)

                """)
    }

    @Test("several recipients: no Delivered-To, no for clause; TCP peers get their address")
    func severalRecipients() {
        let headers = DeliveryHeaders(
            returnPath: "", deliveredTo: nil,
            received: .init(
                from: "client", remoteIP: "127.0.0.1", by: "mx", id: "ID", envelopeFrom: "", forRecipient: nil,
                date: date))
        let expectedDate = DeliveryHeaders.rfc5322Date(date)
        #expect(
            headers.text == """
                Return-Path: <>
                Received: from client ([127.0.0.1])
                \tby mx with LMTP
                \tid ID
                \t(envelope-from <>); \(expectedDate)

                """)
    }

    @Test("dates in other time zones carry their offset")
    func offsets() {
        let zone = TimeZone(secondsFromGMT: -(3 * 3600 + 30 * 60))!
        #expect(DeliveryHeaders.rfc5322Date(date, timeZone: zone) == "Tue, 24 Nov 2026 18:39:21 -0330")
    }
}
