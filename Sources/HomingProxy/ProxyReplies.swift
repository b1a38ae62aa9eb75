import HomingLMTP

/// The replies a proxying node gives for relayed recipients, as Dovecot 2.3's `lmtp-proxy`
/// forms them: the destination's code and text, with the recipient's address as the client
/// wrote it, and Dovecot's own texts where the relay itself failed.
public enum ProxyReplies {
    /// The reply to `RCPT TO` for a recipient the destination answered. A success passes
    /// unchanged (`250 2.1.5 OK`; a missing enhanced code becomes `2.1.0`); a refusal gets the
    /// client's `<path>` in place of the destination's (or in front of the text).
    public static func rcpt(_ reply: LMTPReply, path: String) -> LMTPReply {
        var reply = reply
        if reply.isPositive {
            if reply.enhancedCode == nil { reply.enhancedCode = "2.1.0" }
            return replacingPath(in: reply, with: path, adding: false)
        }
        return forwarded(reply, path: path)
    }

    /// The end-of-data reply for a relayed recipient: the destination's success becomes
    /// `250 <its enhanced code or 2.0.0> <path> <replyID> Saved`; a failure is forwarded
    /// with the client's `<path>`.
    public static func data(_ reply: LMTPReply, path: String, replyID: String) -> LMTPReply {
        if reply.isPositive {
            return LMTPReply(250, reply.enhancedCode ?? "2.0.0", "<\(path)> \(replyID) Saved")
        }
        return forwarded(reply, path: path)
    }

    /// A failure reply forwarded: a missing enhanced code becomes `X.0.0`, and the path the
    /// destination named (or none) is replaced by the client's.
    public static func forwarded(_ reply: LMTPReply, path: String) -> LMTPReply {
        var reply = reply
        if reply.enhancedCode == nil { reply.enhancedCode = "\(reply.code / 100).0.0" }
        return replacingPath(in: reply, with: path, adding: true)
    }

    /// The relay failed (no connection, timeout, a broken reply): `451 4.4.0 Proxy failed
    /// (connect, session=<id>)`, or with `lmtp_verbose_replies`, `451 4.4.0 Proxy failed:
    /// <error> (session=<id>)`. As in Dovecot, no `<path>` is added.
    public static func relayFailed(_ error: LMTPClientError, replyID: String, verbose: Bool) -> LMTPReply {
        if verbose { return LMTPReply(451, "4.4.0", "Proxy failed: \(error.description) (session=\(replyID))") }
        return LMTPReply(451, "4.4.0", "Proxy failed (\(error.dovecotDetail)session=\(replyID))")
    }

    /// `554 5.4.6 <path> Proxying loops to itself`.
    public static func loopsToItself(path: String) -> LMTPReply {
        LMTPReply(554, "5.4.6", "<\(path)> Proxying loops to itself")
    }

    /// `554 5.4.6 <path> Proxying appears to be looping (TTL=0)`.
    public static func ttlExceeded(path: String) -> LMTPReply {
        LMTPReply(554, "5.4.6", "<\(path)> Proxying appears to be looping (TTL=0)")
    }

    /// The passdb could not answer: `451 4.3.0 <path> Temporary user lookup failure`.
    public static func passdbFailed(path: String) -> LMTPReply {
        LMTPReply(451, "4.3.0", "<\(path)> Temporary user lookup failure")
    }

    /// Dovecot's `smtp_server_reply_replace_path`: a `<...>` that opens the first line (and
    /// is followed by a space or the end) becomes `<path>`; otherwise, when `adding`,
    /// `<path> ` is put in front.
    static func replacingPath(in reply: LMTPReply, with path: String, adding: Bool) -> LMTPReply {
        var reply = reply
        let first = reply.lines[0]
        if first.hasPrefix("<"), let close = first.firstIndex(of: ">") {
            let after = first.index(after: close)
            if after == first.endIndex || first[after] == " " {
                reply.lines[0] = "<\(path)>" + first[after...]
                return reply
            }
        }
        if adding { reply.lines[0] = first.isEmpty ? "<\(path)>" : "<\(path)> \(first)" }
        return reply
    }
}
