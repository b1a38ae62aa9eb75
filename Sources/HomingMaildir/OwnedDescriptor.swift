import Glibc

/// An open file descriptor owned by one scope: closed when dropped, or explicitly with
/// ``close()`` when the result of `close(2)` matters (a written file).
struct OwnedDescriptor: ~Copyable {
    let raw: Int32

    init(_ raw: Int32) {
        self.raw = raw
    }

    /// Closes now and returns errno of a failed `close(2)`, or nil. `EINTR` counts as closed (Linux).
    consuming func close() -> Int32? {
        let result = Glibc.close(raw)
        let code = Glibc.errno
        discard self
        return result == 0 || code == EINTR ? nil : code
    }

    deinit {
        _ = Glibc.close(raw)
    }
}
