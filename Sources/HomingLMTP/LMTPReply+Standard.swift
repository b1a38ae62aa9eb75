/// The fixed replies of the LMTP session (texts as Dovecot sends them, where Dovecot has one).
extension LMTPReply {
    /// `500 5.5.1 Unknown command`.
    public static let unknownCommand = LMTPReply(500, "5.5.1", "Unknown command")
    /// `500 5.5.2 Invalid command syntax`.
    public static let invalidCommandSyntax = LMTPReply(500, "5.5.2", "Invalid command syntax")
    /// `500 5.5.2 Line too long`.
    public static let lineTooLong = LMTPReply(500, "5.5.2", "Line too long")
    /// `501 5.5.4 Invalid parameters`.
    public static let invalidParameters = LMTPReply(501, "5.5.4", "Invalid parameters")
    /// `501 Missing hostname` (LHLO without argument; no enhanced code, as Dovecot).
    public static let missingHostname = LMTPReply(501, nil, "Missing hostname")
    /// `502 5.5.1 TLS support is not enabled.`.
    public static let tlsNotEnabled = LMTPReply(502, "5.5.1", "TLS support is not enabled.")
    /// `502 5.5.1 Unsupported command` (AUTH).
    public static let unsupportedCommand = LMTPReply(502, "5.5.1", "Unsupported command")
    /// `550 5.7.14 You are not from trusted IP` (XCLIENT).
    public static let notFromTrustedIP = LMTPReply(550, "5.7.14", "You are not from trusted IP")
    /// `503 5.5.0 XCLIENT not permitted during a mail transaction`.
    public static let xclientDuringTransaction = LMTPReply(
        503, "5.5.0", "XCLIENT not permitted during a mail transaction")
    /// `550 5.7.14 Unacceptable XRCPTFORWARD= parameter: You are not from trusted IP`, Dovecot's
    /// answer to forwarded fields from a client outside `login_trusted_networks`.
    public static let untrustedForwardParameter = LMTPReply(
        550, "5.7.14", "Unacceptable XRCPTFORWARD= parameter: You are not from trusted IP")

    /// `555 5.5.4 Unsupported parameters`.
    public static let unsupportedParameters = LMTPReply(555, "5.5.4", "Unsupported parameters")
    /// `555 5.5.4 Unsupported mail BODY type`.
    public static let unsupportedBodyType = LMTPReply(555, "5.5.4", "Unsupported mail BODY type")
    /// `501 5.5.4 Invalid SIZE parameter`.
    public static let invalidSizeParameter = LMTPReply(501, "5.5.4", "Invalid SIZE parameter")
    /// `552 5.3.4 Message size exceeds fixed maximum message size` (MAIL SIZE= over the limit).
    public static let declaredSizeTooBig = LMTPReply(552, "5.3.4", "Message size exceeds fixed maximum message size")
    /// `552 5.3.4 Message too big for system` (the message grew over the limit).
    public static let messageTooBig = LMTPReply(552, "5.3.4", "Message too big for system")
    /// `501 5.5.4 Invalid string parameter: Invalid character in string` (NOOP, VRFY).
    public static let invalidStringParameter = LMTPReply(
        501, "5.5.4", "Invalid string parameter: Invalid character in string")
    /// `252 2.3.3 Try RCPT instead` (VRFY).
    public static let tryRcptInstead = LMTPReply(252, "2.3.3", "Try RCPT instead")
    /// `250 2.1.0 OK` (MAIL).
    public static let mailOK = LMTPReply(250, "2.1.0", "OK")
    /// `250 2.1.5 OK` (RCPT).
    public static let rcptOK = LMTPReply(250, "2.1.5", "OK")
    /// `250 2.0.0 OK` (RSET, NOOP).
    public static let ok = LMTPReply(250, "2.0.0", "OK")
    /// `354 OK` (DATA).
    public static let startData = LMTPReply(354, nil, "OK")
    /// `221 2.0.0 Bye` (QUIT).
    public static let bye = LMTPReply(221, "2.0.0", "Bye")
    /// `503 5.5.0 MAIL needed first`.
    public static let mailNeededFirst = LMTPReply(503, "5.5.0", "MAIL needed first")
    /// `503 5.5.0 MAIL already given`.
    public static let mailAlreadyGiven = LMTPReply(503, "5.5.0", "MAIL already given")
    /// `503 5.5.0 No valid recipients`.
    public static let noValidRecipients = LMTPReply(503, "5.5.0", "No valid recipients")
    /// `503 5.5.1 DATA not permitted during BDAT transfer`.
    public static let dataDuringBDAT = LMTPReply(503, "5.5.1", "DATA not permitted during BDAT transfer")
    /// `503 5.5.0 Previous data chunk failed, issue RSET first`.
    public static let previousChunkFailed = LMTPReply(
        503, "5.5.0", "Previous data chunk failed, issue RSET first")
    /// `452 4.5.3 Too many recipients`.
    public static let tooManyRecipients = LMTPReply(452, "4.5.3", "Too many recipients")
    /// `451 4.3.0 Temporary internal error`.
    public static let temporaryInternalError = LMTPReply(451, "4.3.0", "Temporary internal error")

    /// `220 <hostname> Homing ready.`: the greeting.
    public static func greeting(hostname: String) -> LMTPReply {
        LMTPReply(220, nil, "\(hostname) Homing ready.")
    }

    /// `421 4.4.2 <hostname> Disconnected for inactivity`: sent before closing an idle connection.
    public static func idleTimeout(hostname: String) -> LMTPReply {
        LMTPReply(421, "4.4.2", "\(hostname) Disconnected for inactivity")
    }

    /// `421 4.3.2 <hostname> Shutting down` (Dovecot's `clients_destroy` text): sent before closing when the server stops.
    public static func shuttingDown(hostname: String) -> LMTPReply {
        LMTPReply(421, "4.3.2", "\(hostname) Shutting down")
    }

    /// `421 4.3.2 <hostname> Too many connections`: sent to a connection that is refused because
    /// the server already serves as many as it may (`service lmtp { process_limit client_limit }`)
    /// or has no file descriptor to spare; it is closed right after.
    public static func tooManyConnections(hostname: String) -> LMTPReply {
        LMTPReply(421, "4.3.2", "\(hostname) Too many connections")
    }

    /// `250 2.0.0 Added <n> octets` (BDAT without LAST).
    public static func addedOctets(_ count: Int) -> LMTPReply {
        LMTPReply(250, "2.0.0", "Added \(count) octets")
    }

    /// `250 2.0.0 <path> <id> Saved`: one recipient's reply at the end of data.
    public static func saved(path: String, replyID: String) -> LMTPReply {
        LMTPReply(250, "2.0.0", "<\(path)> \(replyID) Saved")
    }
}
