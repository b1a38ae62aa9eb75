import Glibc
import HomingDelivery
import HomingMaildir
import HomingQuota

/// A user's quota usage read without changing anything (`homing explain`).
public struct QuotaUsageReading: Sendable, Hashable {
    /// The limits and usage.
    public var contents: MaildirSizeContents
    /// Where the figures come from: `maildirsize`, a scan of the maildir (the file is missing,
    /// invalid or out of date, and a delivery would rewrite it), or nothing yet (no maildir).
    public var source: String
}

extension QuotaPlugin {
    /// `user`'s limits and usage as a delivery would see them, read as the user without
    /// writing: `maildirsize` when a delivery would trust it, else a scan of the maildir (which
    /// a delivery would write back). Blocking.
    public static func inspect(_ user: DeliveryUser, config: QuotaConfiguration) throws -> QuotaUsageReading {
        let maildir = user.mailLocation.root
        let counted: (String) -> Bool = { !config.rules.isIgnored(mailbox: $0) }
        return try FilesystemIdentity.withIdentity(user.identity) { () throws -> QuotaUsageReading in
            var info = stat()
            guard stat(maildir, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                return QuotaUsageReading(
                    contents: MaildirSizeContents(limits: config.rules.userLimits, usage: .zero, usageLineCount: 0, isValid: true),
                    source: "no maildir yet: nothing used")
            }
            let file = MaildirSizeFile(maildir: maildir)
            let configured: QuotaLimits? = config.rules.defaultRuleIsForced ? config.rules.userLimits : nil
            let existing = try file.read()
            var size = stat()
            let fileSize = stat(file.path, &size) == 0 ? Int(size.st_size) : 0
            if let existing,
                !MaildirSizeFile.needsRecalculation(contents: existing, fileSize: fileSize, configured: configured)
            {
                return QuotaUsageReading(contents: existing, source: "\(file.path)")
            }
            let usage = try MaildirUsageScanner(maildir: maildir).scan(isCounted: counted)
            let limits = configured ?? existing?.limits ?? config.rules.userLimits
            let why = existing == nil ? "missing" : "out of date"
            return QuotaUsageReading(
                contents: MaildirSizeContents(limits: limits, usage: usage, usageLineCount: 0, isValid: true),
                source: "a scan of \(maildir) (maildirsize \(why): the next delivery rewrites it)")
        }.get()
    }
}
