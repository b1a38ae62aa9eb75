/// One entry of an address header, as the `address` test sees it (RFC 5228 section 2.7.4).
public struct SieveAddressEntry: Sendable, Hashable {
    /// The local part (unquoted), `nil` when the entry is not a valid address.
    public var localPart: String?
    /// The domain, `nil` when the entry is not a valid address or has none.
    public var domain: String?
    /// The text as written, for `:all` on an invalid entry.
    public var raw: String

    /// Creates an entry.
    public init(localPart: String?, domain: String?, raw: String) {
        self.localPart = localPart
        self.domain = domain
        self.raw = raw
    }

    /// `local@domain` (or just the local part), or the raw text when invalid.
    public var address: String {
        guard let localPart else { return raw }
        guard let domain else { return localPart }
        return "\(localPart)@\(domain)"
    }
}

/// Parses RFC 5322 address lists (section 3.4) for `address` and `envelope` tests.
///
/// Accepted: `addr-spec`, `name-addr` (`Name <local@domain>`, display names of words,
/// quoted strings, dots and encoded words), groups (`Team: a@x, b@y;` gives its members,
/// `undisclosed-recipients:;` gives nothing), comments anywhere (nested, skipped), quoted local
/// parts (returned unquoted: `"john doe"@x` has the local part `john doe`), domain literals
/// (`[192.0.2.1]`), obsolete routes (`<@relay1,@relay2:user@host>`, route dropped), white space
/// around dots, and the null address `<>` (local part empty, no domain). A bare local part
/// (`root`) has no domain. Anything else is returned with `localPart == nil` and its text in
/// `raw`; empty entries (`a@x, , b@y`) are skipped.
public enum SieveAddressList {
    /// The addresses in `value` (an unfolded header value); group names are skipped.
    public static func parse(_ value: String) -> [SieveAddressEntry] {
        let bytes = Array(value.utf8)
        let tokens = AddressTokenizer.tokenize(bytes)
        var entries: [SieveAddressEntry] = []
        var current: [AddressToken] = []
        var angleDepth = 0
        var inGroup = false

        func finishEntry() {
            if let entry = makeEntry(current, bytes: bytes) {
                entries.append(entry)
            }
            current.removeAll()
            angleDepth = 0
        }

        for token in tokens {
            if case .special(let byte) = token.kind, angleDepth == 0 {
                switch byte {
                case UInt8(ascii: ","):
                    finishEntry()
                    continue
                case UInt8(ascii: ":") where !inGroup && !current.contains(where: { $0.isSpecial("@") }):
                    // Group display name: dropped, the members follow.
                    current.removeAll()
                    inGroup = true
                    continue
                case UInt8(ascii: ";") where inGroup:
                    finishEntry()
                    inGroup = false
                    continue
                default:
                    break
                }
            }
            if token.isSpecial("<") { angleDepth += 1 }
            if token.isSpecial(">") { angleDepth = max(0, angleDepth - 1) }
            current.append(token)
        }
        finishEntry()
        return entries
    }

    /// The entry for the tokens between two commas, `nil` when there are none.
    private static func makeEntry(_ tokens: [AddressToken], bytes: [UInt8]) -> SieveAddressEntry? {
        guard let first = tokens.first, let last = tokens.last else { return nil }
        let raw = String(decoding: bytes[first.start..<last.end], as: UTF8.self)
        let invalid = SieveAddressEntry(localPart: nil, domain: nil, raw: raw)
        guard let open = tokens.firstIndex(where: { $0.isSpecial("<") }) else {
            guard let (local, domain) = parseAddrSpec(tokens[...]) else { return invalid }
            return SieveAddressEntry(localPart: local, domain: domain, raw: raw)
        }
        // name-addr: display name words, then <[route:]addr-spec>.
        let phrase = tokens[..<open]
        guard phrase.allSatisfy({ $0.isWord || $0.isSpecial(".") }) else { return invalid }
        guard let close = tokens[open...].firstIndex(where: { $0.isSpecial(">") }),
            close == tokens.count - 1
        else { return invalid }
        var inner = tokens[(open + 1)..<close]
        if inner.isEmpty {
            return SieveAddressEntry(localPart: "", domain: nil, raw: raw)
        }
        if inner.first?.isSpecial("@") == true {
            guard let colon = inner.firstIndex(where: { $0.isSpecial(":") }) else { return invalid }
            let route = inner[..<colon]
            guard route.allSatisfy({ $0.isWord || $0.isDomainLiteral || $0.isSpecial("@") || $0.isSpecial(".") || $0.isSpecial(",") })
            else { return invalid }
            inner = inner[(colon + 1)...]
        }
        guard let (local, domain) = parseAddrSpec(inner) else { return invalid }
        return SieveAddressEntry(localPart: local, domain: domain, raw: raw)
    }

    /// `local-part ["@" domain]`; `nil` when the tokens are not one.
    private static func parseAddrSpec(_ tokens: ArraySlice<AddressToken>) -> (String, String?)? {
        var index = tokens.startIndex
        var local = ""
        var sawWord = false
        // Local part: words and dots (obsolete forms allow stray dots, kept as written).
        while index < tokens.endIndex {
            let token = tokens[index]
            if case .atom(let text) = token.kind {
                if sawWord && !local.hasSuffix(".") { return nil }
                local += text
                sawWord = true
            } else if case .quoted(let text) = token.kind {
                if sawWord && !local.hasSuffix(".") { return nil }
                local += text
                sawWord = true
            } else if token.isSpecial(".") {
                local += "."
            } else {
                break
            }
            index += 1
        }
        guard sawWord else { return nil }
        if index == tokens.endIndex { return (local, nil) }
        guard tokens[index].isSpecial("@") else { return nil }
        index += 1
        guard index < tokens.endIndex else { return nil }
        if case .domainLiteral(let text) = tokens[index].kind {
            guard index + 1 == tokens.endIndex else { return nil }
            return (local, text)
        }
        var domain = ""
        var expectAtom = true
        while index < tokens.endIndex {
            let token = tokens[index]
            if expectAtom, case .atom(let text) = token.kind {
                domain += text
            } else if !expectAtom, token.isSpecial(".") {
                domain += "."
            } else {
                return nil
            }
            expectAtom.toggle()
            index += 1
        }
        guard !expectAtom else { return nil }
        return (local, domain)
    }
}
