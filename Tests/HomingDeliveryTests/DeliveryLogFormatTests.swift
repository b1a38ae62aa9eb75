import Testing

@testable import HomingDelivery

@Suite("deliver_log_format")
struct DeliveryLogFormatTests {
    let values = DeliveryLogFormat.Values(
        status: "saved mail to INBOX", messageID: "<m@x>", subject: "Hi", from: "a@b", envelopeFrom: "s@x",
        size: 450, virtualSize: 464)

    @Test("the default format gives Dovecot's line")
    func defaultFormat() {
        #expect(DeliveryLogFormat("msgid=%m: %$").render(values) == "msgid=<m@x>: saved mail to INBOX")
    }

    @Test("a missing Message-ID is 'unspecified'")
    func unspecified() {
        var values = values
        values.messageID = nil
        #expect(DeliveryLogFormat("msgid=%m: %$").render(values) == "msgid=unspecified: saved mail to INBOX")
    }

    @Test("every variable, long names, %% and unknown variables")
    func allVariables() {
        let format = DeliveryLogFormat("%s|%f|%e|%p|%w|%{msgid}|%{size}|%%|%q|%{nope}")
        #expect(format.render(values) == "Hi|a@b|s@x|450|464|<m@x>|450|%|%q|%{nope}")
    }
}
