import Foundation

/// The SMTP envelope a script sees (`envelope` test, vacation recipient checks).
public struct SieveEnvelope: Sendable, Hashable {
    /// MAIL FROM, without angle brackets; empty for the null sender `<>`.
    public var from: String
    /// The final recipient (the user's address), without angle brackets.
    public var to: String
    /// The original recipient (ORCPT or the address as sent), if known.
    public var originalRecipient: String?
    /// The authenticated user, if any (`envelope "auth"`).
    public var authUser: String?

    /// Creates an envelope.
    public init(from: String, to: String, originalRecipient: String? = nil, authUser: String? = nil) {
        self.from = from
        self.to = to
        self.originalRecipient = originalRecipient
        self.authUser = authUser
    }
}

/// Limits and settings for running scripts (Pigeonhole's `sieve_*` settings).
public struct SieveRuntimeSettings: Sendable, Hashable {
    /// `sieve_max_actions` (default 32): more actions is a runtime error.
    public var maxActions: Int
    /// `sieve_max_redirects` (default 4).
    public var maxRedirects: Int
    /// `recipient_delimiter` characters for `subaddress` (default `+`).
    public var recipientDelimiter: String
    /// `sieve_vacation_min_period` in seconds (default 1 day, as in Pigeonhole).
    public var vacationMinPeriod: Int
    /// `sieve_vacation_max_period` in seconds; 0 (the default, as in Pigeonhole) means no
    /// upper bound.
    public var vacationMaxPeriod: Int
    /// `sieve_vacation_default_period` in seconds (default 7 days).
    public var vacationDefaultPeriod: Int
    /// Upper bound on the work one script may do (matching steps, regex evaluations...);
    /// exceeding it is a runtime error, so no script can hang a delivery.
    public var maxWork: Int
    /// Largest number of octets of a header value or body part the matchers look at.
    public var maxMatchSubjectSize: Int
    /// Maximum `include` nesting depth (default 10).
    public var maxIncludeDepth: Int
    /// The host name for generated Message-IDs (notifications).
    public var hostname: String
    /// `postmaster_address`: the sender of notifications when neither `:from` nor `userEmail`
    /// gives one; `nil` for `postmaster@<hostname>`.
    public var postmasterAddress: String?
    /// `sieve_user_email`: the user's address for notifications (`From:`, `owner-email`);
    /// `nil` when not configured.
    public var userEmail: String?
    /// The `editheader` settings (`sieve_editheader_*`).
    public var editHeader: SieveEditHeaderSettings
    /// How `spamtest` reads the scanner's verdict (`sieve_spamtest_*`); `nil` when not
    /// configured (the test then always sees "0").
    public var spamTest: SieveScoreTestSettings?
    /// How `virustest` reads the scanner's verdict (`sieve_virustest_*`).
    public var virusTest: SieveScoreTestSettings?

    /// Creates settings with Pigeonhole's defaults.
    public init(
        maxActions: Int = 32, maxRedirects: Int = 4, recipientDelimiter: String = "+",
        vacationMinPeriod: Int = 86_400, vacationMaxPeriod: Int = 0,
        vacationDefaultPeriod: Int = 7 * 86_400, maxWork: Int = 2_000_000,
        maxMatchSubjectSize: Int = 1 << 20, maxIncludeDepth: Int = 10, hostname: String = "localhost",
        postmasterAddress: String? = nil, userEmail: String? = nil,
        editHeader: SieveEditHeaderSettings = SieveEditHeaderSettings(), spamTest: SieveScoreTestSettings? = nil,
        virusTest: SieveScoreTestSettings? = nil
    ) {
        self.maxActions = maxActions
        self.maxRedirects = maxRedirects
        self.recipientDelimiter = recipientDelimiter
        self.vacationMinPeriod = vacationMinPeriod
        self.vacationMaxPeriod = vacationMaxPeriod
        self.vacationDefaultPeriod = vacationDefaultPeriod
        self.maxWork = maxWork
        self.maxMatchSubjectSize = maxMatchSubjectSize
        self.maxIncludeDepth = maxIncludeDepth
        self.hostname = hostname
        self.postmasterAddress = postmasterAddress
        self.userEmail = userEmail
        self.editHeader = editHeader
        self.spamTest = spamTest
        self.virusTest = virusTest
    }

    /// A vacation period (seconds) within the configured bounds: at least the minimum, and at
    /// most the maximum unless it is 0.
    public func clampedVacationPeriod(_ period: Int) -> Int {
        var result = max(vacationMinPeriod, period)
        if vacationMaxPeriod > 0 { result = min(vacationMaxPeriod, result) }
        return result
    }
}

/// Where an `include`d script is looked up (RFC 6609 `:personal` / `:global`).
public enum SieveIncludeLocation: Sendable, Hashable {
    /// The user's own scripts (`:personal`, the default).
    case personal
    /// The administrator's global scripts (`sieve_global`).
    case global
}

/// What the interpreter asks of the world while a script runs. Implementations must be
/// quick and must not block for long (they run on a delivery thread, not an event loop).
public protocol SieveRuntimeEnvironment: Sendable {
    /// `mailboxexists` (RFC 5490).
    func mailboxExists(_ mailbox: String) -> Bool
    /// `duplicate` (RFC 7352): whether `key` was recorded within its period.
    func isDuplicate(key: String) -> Bool
    /// `include` (RFC 6609): loads and compiles a script; throws `SieveError` for a missing or
    /// broken script (a runtime error for the including script).
    func loadInclude(name: String, location: SieveIncludeLocation) throws(SieveError) -> SieveCompiledScript
    /// `environment` items (RFC 5183): `domain`, `host`, `location`, `name`, `phase`,
    /// `remote-host`, `remote-ip`, `version`; missing items make the test false.
    var environmentItems: [String: String] { get }
    /// The time of delivery (`currentdate`, vacation periods).
    var now: Date { get }
}

/// A runtime error: the script compiled but could not be run to the end (too many actions,
/// include missing, conflicting actions...). Delivery then keeps the message in INBOX.
public struct SieveRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the script (line of the failing command).
    public var location: SieveSourceLocation
    /// What went wrong, for people.
    public var message: String

    /// Creates a runtime error.
    public init(at location: SieveSourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    /// `line N: error: message.`, as Pigeonhole logs runtime errors.
    public var description: String { "line \(location.line): error: \(message)." }
}
