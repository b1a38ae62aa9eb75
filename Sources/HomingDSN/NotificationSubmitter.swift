import HomingConfig
import HomingDelivery
import HomingSubmission

/// How Homing's own reports (delivery notifications, dovecot-lda's rejections) leave: through
/// `submission_host` when set, else `sendmail_path` run as the recipient's user (never as
/// root), as Sieve's outgoing mail does.
public struct NotificationSubmitter: Sendable {
    private let submitter: any MailSubmitter

    /// Reads `submission_host` and `sendmail_path`.
    /// - Throws: `ConfigError` when `submission_host` does not parse.
    public init(settings: HomingSettings, hostname: String) throws(ConfigError) {
        if !settings.submissionHost.isEmpty {
            do {
                submitter = try SMTPSubmitter(setting: settings.submissionHost, heloName: hostname)
            } catch {
                throw ConfigError("submission_host: \(error)")
            }
        } else {
            submitter = SendmailSubmitter(command: settings.sendmailPath)
        }
    }

    /// Uses `submitter` (tests).
    public init(submitter: any MailSubmitter) {
        self.submitter = submitter
    }

    /// The submitter for mail on behalf of `user`: sendmail runs with the user's uid and gid
    /// when Homing runs as root.
    public func submitter(for user: DeliveryUser?) -> any MailSubmitter {
        guard let sendmail = submitter as? SendmailSubmitter, let identity = user?.identity else { return submitter }
        return sendmail.running(asUID: identity.uid, gid: identity.gid)
    }
}
