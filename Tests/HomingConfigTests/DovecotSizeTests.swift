import HomingConfig
import Testing

@Suite("Dovecot sizes and time intervals")
struct DovecotSizeTests {
    @Test("sizes: bare numbers use the default unit; units are powers of 1024, any case, B optional")
    func sizes() throws {
        #expect(try DovecotSize.parse("1024") == 1024)
        #expect(try DovecotSize.parse("10", defaultMultiplier: 1024) == 10240)
        #expect(try DovecotSize.parse("512B") == 512)
        #expect(try DovecotSize.parse("100k") == 102_400)
        #expect(try DovecotSize.parse("1M") == 1 << 20)
        #expect(try DovecotSize.parse("1GB") == 1 << 30)
        #expect(try DovecotSize.parse("2 t") == 2 << 40)
        #expect(try DovecotSize.parse("-100M", allowSign: true) == -(100 << 20))
        #expect(try DovecotSize.parse("+1G", allowSign: true) == 1 << 30)
    }

    @Test("sizes that are not sizes name the problem", arguments: [
        ("lots", "invalid size 'lots'"), ("10x", "unknown unit 'x' in size '10x'"), ("", "invalid size ''"),
        ("-1M", "invalid size '-1M'"), ("99999999999T", "size '99999999999T' is too large"),
    ])
    func badSizes(text: String, reason: String) {
        #expect(throws: DovecotValueError(reason)) { try DovecotSize.parse(text) }
    }

    @Test("intervals: seconds by default, Dovecot's unit words")
    func intervals() throws {
        #expect(try DovecotInterval.seconds("30") == 30)
        #expect(try DovecotInterval.seconds("5 mins") == 300)
        #expect(try DovecotInterval.seconds("12h") == 43_200)
        #expect(try DovecotInterval.seconds("7d") == 604_800)
        #expect(try DovecotInterval.seconds("2 weeks") == 1_209_600)
        #expect(try DovecotInterval.parse("2500ms") == .milliseconds(2500))
        #expect(throws: DovecotValueError("unknown time unit 'fortnights' in '2 fortnights'")) {
            try DovecotInterval.parse("2 fortnights")
        }
        #expect(throws: DovecotValueError("invalid time interval 'soon' (such as 30s, 5m, 1d)")) {
            try DovecotInterval.parse("soon")
        }
    }
}
