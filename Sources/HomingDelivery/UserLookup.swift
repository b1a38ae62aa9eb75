import HomingUserdb

/// Anything that answers userdb lookups: the configured `UserdbChain`.
public protocol UserLookup: Sendable {
    /// Looks one user up.
    func lookup(_ request: UserdbRequest) async -> UserdbResult
}

extension UserdbChain: UserLookup {}
