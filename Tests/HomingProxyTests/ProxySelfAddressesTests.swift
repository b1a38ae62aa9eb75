import Testing

@testable import HomingProxy

@Suite("Proxy self addresses")
struct ProxySelfAddressesTests {
    @Test("a destination is this node when an address and the port are this node's")
    func selfCheck() {
        let me = ProxySelfAddresses(addresses: ["10.0.0.5"], ports: [24])
        #expect(me.contains(ips: ["10.0.0.5"], port: 24, localIP: nil, localPort: nil))
        #expect(me.contains(ips: ["127.0.0.1"], port: 2424, localIP: "::ffff:127.0.0.1", localPort: 2424))
        #expect(!me.contains(ips: ["10.0.0.5"], port: 2424, localIP: nil, localPort: nil))
        #expect(!me.contains(ips: ["10.0.0.6"], port: 24, localIP: "127.0.0.1", localPort: 24))
    }

    @Test("addresses are compared in canonical form")
    func canonical() {
        #expect(ProxyFieldParser.normalizedIP("::ffff:127.0.0.1") == "127.0.0.1")
        #expect(ProxyFieldParser.normalizedIP("0:0::1") == "::1")
        #expect(ProxyFieldParser.normalizedIP("example.com") == nil)
    }
}
