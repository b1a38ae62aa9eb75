import Foundation

/// Whether an LMTP session is waiting for the client, shared between the session driver
/// (a Swift concurrency task) and ``LMTPIdleTimeoutHandler`` (on the channel's event loop).
///
/// The driver marks itself waiting only when every reply has been written and it needs
/// more bytes from the client; never while it waits for the backend (a userdb lookup, a
/// delivery), so an idle timeout never cuts a delivery short.
public final class LMTPConnectionActivity: @unchecked Sendable {
    // Safe to share: `awaiting` is only read and written while holding `lock`.
    private let lock = NSLock()
    private var awaiting = false

    /// Creates the shared flag (initially not waiting).
    public init() {}

    /// `true` while the session waits for client input with nothing left to do.
    public var isAwaitingClientInput: Bool {
        lock.lock()
        defer { lock.unlock() }
        return awaiting
    }

    /// Set by the session driver around each wait for input.
    public func setAwaitingClientInput(_ value: Bool) {
        lock.lock()
        awaiting = value
        lock.unlock()
    }
}
