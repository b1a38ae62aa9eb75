import HomingUserdb

/// Anything that answers userdb lookups: the configured `UserdbChain`.
public protocol UserLookup: Sendable {
    /// Looks one user up.
    func lookup(_ request: UserdbRequest) async -> UserdbResult

    /// Looks one user up, reporting each `userdb { }` block passed over or asked to `trace`.
    /// The default reports nothing.
    func lookup(_ request: UserdbRequest, trace: UserdbTrace?) async -> UserdbResult
}

extension UserLookup {
    public func lookup(_ request: UserdbRequest, trace: UserdbTrace?) async -> UserdbResult {
        await lookup(request)
    }
}

extension UserdbChain: UserLookup {}
extension CachedUserdb: UserLookup {}
