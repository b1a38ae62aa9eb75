import Glibc

/// An IPv4 or IPv6 network as `login_trusted_networks` writes one: an address alone (`10.1.2.3`,
/// `::1`, one host) or an address and a prefix length (`192.168.0.0/16`, `fd00::/8`). IPv6
/// addresses may be written in brackets (`[::1]/128`), as Dovecot's `net_parse_range` allows.
///
/// Bits of the address beyond the prefix are ignored, as Dovecot does (`10.1.2.3/8` is `10/8`).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The address's bytes: 4 for IPv4, 16 for IPv6.
    public let address: [UInt8]
    /// The number of leading bits that must match (0 to 32, or 0 to 128).
    public let prefixLength: Int

    /// Parses `ip` or `ip/bits`.
    public init(parsing text: String) throws(IPNetworkError) {
        var host = Substring(text)
        var bits: Int?
        if let slash = text.firstIndex(of: "/") {
            host = text[..<slash]
            let digits = text[text.index(after: slash)...]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(digits)
            else {
                throw IPNetworkError(network: text, problem: "the prefix length after '/' must be a number of bits")
            }
            bits = number
        }
        guard let bytes = Self.addressBytes(String(host)) else {
            throw IPNetworkError(
                network: text, problem: "'\(host)' is not an IPv4 or IPv6 address (host names are not allowed)")
        }
        let maximum = bytes.count * 8
        if let bits, bits > maximum {
            throw IPNetworkError(
                network: text, problem: "an IPv\(bytes.count == 4 ? 4 : 6) prefix is at most \(maximum) bits")
        }
        address = bytes
        prefixLength = bits ?? maximum
    }

    /// The network as written back: `address/bits`, or the address alone for one host.
    public var description: String {
        let text = Self.addressText(address) ?? "?"
        return prefixLength == address.count * 8 ? text : "\(text)/\(prefixLength)"
    }

    /// Whether the address `ip` (text) is inside the network. An IPv4-mapped IPv6 address
    /// (`::ffff:10.1.2.3`, as a dual-stack listener reports IPv4 peers) is compared as the IPv4
    /// address it carries. Text that is no address is in no network.
    public func contains(_ ip: String) -> Bool {
        guard var bytes = Self.addressBytes(ip) else { return false }
        if bytes.count == 16, address.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF,
            bytes[11] == 0xFF
        {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == address.count else { return false }
        var remaining = prefixLength
        for (index, byte) in bytes.enumerated() where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            guard byte & mask == address[index] & mask else { return false }
            remaining -= 8
        }
        return true
    }

    /// The bytes of an IPv4 (dotted quad) or IPv6 address, brackets allowed around IPv6;
    /// `nil` for anything else.
    public static func addressBytes(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]"), text.count > 2 {
            text = text.dropFirst().dropLast()
            guard text.contains(":") else { return nil }
        }
        let plain = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, plain, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, plain, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The canonical text of 4 or 16 address bytes (`inet_ntop`).
    static func addressText(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let done = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard done else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses a `login_trusted_networks` value: networks separated by spaces and/or commas, as
    /// Dovecot splits it (empty: no network is trusted).
    public static func parseList(_ value: String) throws(IPNetworkError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for word in value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
            networks.append(try IPNetwork(parsing: String(word)))
        }
        return networks
    }
}

/// A network in a list such as `login_trusted_networks` could not be read.
public struct IPNetworkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The network as written.
    public var network: String
    /// What is wrong with it.
    public var problem: String

    public init(network: String, problem: String) {
        self.network = network
        self.problem = problem
    }

    public var description: String {
        "invalid network '\(network)': \(problem); write an IP address or address/bits, e.g. 10.0.0.0/8 or fd00::/8"
    }
}
