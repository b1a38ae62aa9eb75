/// Dovecot's wildcard match for quota rule mailbox names: `*` matches any run of characters,
/// `?` exactly one; everything else literally (case-sensitive, except that `INBOX` matches in any case).
enum MailboxMask {
    static func matches(_ name: String, mask: String) -> Bool {
        if mask.uppercased() == "INBOX" { return name.uppercased() == "INBOX" }
        return match(Array(name.unicodeScalars), Array(mask.unicodeScalars))
    }

    private static func match(_ name: [Unicode.Scalar], _ mask: [Unicode.Scalar]) -> Bool {
        var n = 0, m = 0
        var starMask = -1, starName = 0
        while n < name.count {
            if m < mask.count, mask[m] == "?" || mask[m] == name[n], mask[m] != "*" {
                n += 1
                m += 1
            } else if m < mask.count, mask[m] == "*" {
                starMask = m
                starName = n
                m += 1
            } else if starMask >= 0 {
                starName += 1
                n = starName
                m = starMask + 1
            } else {
                return false
            }
        }
        while m < mask.count, mask[m] == "*" { m += 1 }
        return m == mask.count
    }
}
