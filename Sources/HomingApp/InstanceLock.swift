import Foundation
import HomingConfig

/// One Homing per `base_dir`: `base_dir/homing.pid` holds the running instance's process id,
/// under an exclusive `flock` kept for the life of the process. A second instance refuses to
/// start, naming the first; a pid file left by a crashed instance is not locked and is taken over.
public final class InstanceLock: Sendable {
    /// The pid file's path.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, creating `base_dir` (0755) when missing, as Dovecot does.
    /// - Throws: `ConfigError` naming the running instance, or what failed.
    public init(baseDir: String) throws(ConfigError) {
        if mkdir(baseDir, 0o755) != 0 && errno != EEXIST {
            throw ConfigError("base_dir \(baseDir): cannot create it: \(String(cString: strerror(errno)))")
        }
        let path = baseDir + "/homing.pid"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            throw ConfigError("\(path): cannot open the pid file: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let running = Self.readPID(fd)
            close(fd)
            if code == EWOULDBLOCK {
                let who = running.map { "with PID \($0)" } ?? "(PID unknown)"
                throw ConfigError(
                    "Homing is already running \(who) (read from \(path)): stop it first, or give this instance another base_dir")
            }
            throw ConfigError("\(path): cannot lock the pid file: \(String(cString: strerror(code)))")
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.path = path
        self.descriptor = fd
    }

    /// Removes the pid file and releases the lock (at a clean exit).
    public func release() {
        unlink(path)
        close(descriptor)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
