import Glibc

/// An open file descriptor owned by one scope: closed when dropped, or explicitly with
/// ``close()`` when the result of `close(2)` matters (a written file).
public struct OwnedDescriptor: ~Copyable {
    /// The descriptor number; valid while this value lives.
    public let raw: Int32

    /// Takes ownership of `raw` (a descriptor the caller opened).
    public init(_ raw: Int32) {
        self.raw = raw
    }

    /// Closes now and returns errno of a failed `close(2)`, or nil. `EINTR` counts as closed (Linux).
    public consuming func close() -> Int32? {
        let result = Glibc.close(raw)
        let code = Glibc.errno
        discard self
        return result == 0 || code == EINTR ? nil : code
    }

    /// Gives the descriptor up without closing it: the caller owns it from now on.
    public consuming func release() -> Int32 {
        let raw = self.raw
        discard self
        return raw
    }

    deinit {
        _ = Glibc.close(raw)
    }
}
