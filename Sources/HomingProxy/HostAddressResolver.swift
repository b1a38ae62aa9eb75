import Glibc
import NIOPosix

/// Resolves a host name to its IP addresses with `getaddrinfo`, on a thread pool (never on
/// an event loop or Swift's cooperative pool).
enum HostAddressResolver {
    static func addresses(of host: String) async -> [String] {
        if let ip = ProxyFieldParser.normalizedIP(host) { return [ip] }
        return (try? await NIOThreadPool.singleton.runIfActive { lookup(host) }) ?? []
    }

    private static func lookup(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var out: [String] = []
        var next = result
        while let info = next {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0,
                let ip = ProxyFieldParser.normalizedIP(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            {
                out.append(ip)
            }
            next = info.pointee.ai_next
        }
        return out
    }
}
