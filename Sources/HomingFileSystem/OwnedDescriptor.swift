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

    /// `flock(2)` on the descriptor, shared or exclusive; closing it releases the lock.
    /// `timeout` nil waits without a bound; otherwise the lock is tried without blocking, then
    /// again after pauses that double from 1 ms up to `longestPause` microseconds, and after
    /// `timeout` seconds ``FileAccessError/lockTimeout(path:seconds:)`` is thrown. `path`
    /// names the file in errors.
    public func lock(
        exclusive: Bool, timeout: Double?, path: String, longestPause: useconds_t = 50_000
    ) throws(FileAccessError) {
        guard let timeout else {
            while flock(raw, exclusive ? LOCK_EX : LOCK_SH) != 0 {
                if errno == EINTR { continue }
                throw .failed(operation: "flock", path: path, errno: errno)
            }
            return
        }
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var pause: useconds_t = min(1000, longestPause)
        while flock(raw, operation) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else { throw .failed(operation: "flock", path: path, errno: code) }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let waited = Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) / 1e9
            guard waited < timeout else { throw .lockTimeout(path: path, seconds: timeout) }
            usleep(pause)
            pause = min(pause * 2, longestPause)
        }
    }

    deinit {
        _ = Glibc.close(raw)
    }
}
