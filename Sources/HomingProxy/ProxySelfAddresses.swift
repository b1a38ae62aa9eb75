import HomingConfig
import HomingServer

/// The addresses and ports that are this node, for `proxy_maybe` (Dovecot's auth: the local
/// IP of the connection and `auth_proxy_self`) and the self-loop check.
public struct ProxySelfAddresses: Sendable, Hashable {
    /// IP addresses (normalised) besides the connection's own local address.
    public var addresses: Set<String>
    /// The LMTP ports this node listens on (TCP).
    public var ports: Set<Int>

    public init(addresses: Set<String>, ports: Set<Int>) {
        self.addresses = addresses
        self.ports = ports
    }

    /// `auth_proxy_self`, the addresses of `inet_listener`s bound to one address, and their ports.
    public init(settings: HomingSettings) {
        var addresses = Set(settings.authProxySelf.compactMap(ProxyFieldParser.normalizedIP))
        var ports: Set<Int> = []
        for listener in LMTPListener.listeners(for: settings) {
            guard case .inet(let host, let port, _) = listener else { continue }
            ports.insert(port)
            if host != "0.0.0.0", host != "::", let ip = ProxyFieldParser.normalizedIP(host) { addresses.insert(ip) }
        }
        self.init(addresses: addresses, ports: ports)
    }

    /// Whether `ips` (a destination's addresses) and `port` are this node, for a client
    /// connected to `localIP`:`localPort`.
    public func contains(ips: [String], port: Int, localIP: String?, localPort: Int?) -> Bool {
        var mine = addresses
        if let localIP, let ip = ProxyFieldParser.normalizedIP(localIP) { mine.insert(ip) }
        var myPorts = ports
        if let localPort { myPorts.insert(localPort) }
        return myPorts.contains(port) && ips.contains { mine.contains($0) }
    }
}
