import Foundation
import Glibc
import HomingFileSystem
import HomingTestSupport
import Testing

/// Both ways of opening without links: `openat2` where this kernel has it, and the
/// `O_NOFOLLOW`-per-component fallback, which must give the same answers.
let resolutions: [LinkFreeResolution] =
    LinkFreeResolution.available == .openat2 ? [.openat2, .noFollowPerComponent] : [.noFollowPerComponent]

@Suite("TreeDirectory: one walk from a directory descriptor, never through a link")
struct TreeDirectoryTests {
    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func symlink(_ target: String, at path: String) throws {
        guard Glibc.symlink(target, path) == 0 else { throw TreeTestFailure("symlink \(path): errno \(errno)") }
    }

    func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    @Test("openat2 is used where the kernel has it (Linux 5.6+)")
    func availability() {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        if parts.count >= 2, (parts[0], parts[1]) >= (5, 6) {
            #expect(LinkFreeResolution.available == .openat2, "kernel \(release)")
        }
    }

    @Test("the base is reached through links; a link at any level below it is refused", arguments: resolutions)
    func linksBelowTheBase(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        let real = temporary.path + "/real-home"
        let elsewhere = temporary.path + "/elsewhere"
        try makeDirectory(real + "/Maildir/.lists/cur")
        try makeDirectory(elsewhere + "/cur")
        try symlink(real, at: temporary.path + "/home")

        // The home itself is a link: fine, it is the administrator's part.
        let base = TreePath(base: temporary.path + "/home", components: ["Maildir", ".lists", "cur"])
        let opened = try TreeDirectory.open(base, resolution: resolution)
        #expect(opened.path == temporary.path + "/home/Maildir/.lists/cur")

        // A link at the middle level: refused, naming that level, whether walked in one call or not.
        try FileManager.default.removeItem(atPath: real + "/Maildir/.lists")
        try symlink(elsewhere, at: real + "/Maildir/.lists")
        #expect(throws: FileAccessError.symlinkNotAllowed(path: temporary.path + "/home/Maildir/.lists")) {
            _ = try TreeDirectory.open(base, resolution: resolution)
        }
        #expect(throws: FileAccessError.symlinkNotAllowed(path: temporary.path + "/home/Maildir/.lists")) {
            _ = try TreeDirectory.open(base, create: DirectoryCreation(), resolution: resolution)
        }
        #expect(entries(elsewhere) == ["cur"])
    }

    @Test("a link to a file is refused for reading and writing; the target is untouched", arguments: resolutions)
    func fileLinks(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        try makeDirectory(temporary.path + "/home")
        let target = temporary.path + "/victim"
        try "secret\n".write(toFile: target, atomically: false, encoding: .utf8)
        try symlink(target, at: temporary.path + "/home/maildirsize")
        try symlink(temporary.path + "/nothing-here", at: temporary.path + "/home/dangling")

        let home = try TreeDirectory.openBase(temporary.path + "/home", resolution: resolution)
        for flags in [O_RDONLY, O_WRONLY | O_APPEND, O_WRONLY | O_CREAT | O_TRUNC] {
            #expect(throws: FileAccessError.symlinkNotAllowed(path: temporary.path + "/home/maildirsize")) {
                _ = try home.openFile("maildirsize", flags: flags)
            }
        }
        // An exclusive create on a dangling link does not create its target.
        let error = #expect(throws: FileAccessError.self) {
            _ = try home.openFile("dangling", flags: O_WRONLY | O_CREAT | O_EXCL)
        }
        #expect(error?.errno == EEXIST)
        #expect(!FileManager.default.fileExists(atPath: temporary.path + "/nothing-here"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "secret\n")
        // Removing the link removes the link, not what it points to.
        try home.removeFile("maildirsize")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "secret\n")
    }

    @Test("a FIFO or a directory where a file must be is refused without blocking", arguments: resolutions)
    func notRegularFiles(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        #expect(mkfifo(temporary.path + "/fifo", 0o600) == 0)
        try makeDirectory(temporary.path + "/directory")
        let base = try TreeDirectory.openBase(temporary.path, resolution: resolution)
        #expect(throws: FileAccessError.notARegularFile(path: temporary.path + "/fifo")) {
            _ = try base.openFile("fifo", flags: O_RDONLY)
        }
        #expect(throws: FileAccessError.notARegularFile(path: temporary.path + "/fifo")) {
            _ = try base.openFile("fifo", flags: O_WRONLY | O_APPEND)
        }
        #expect(throws: FileAccessError.notARegularFile(path: temporary.path + "/directory")) {
            _ = try base.openFile("directory", flags: O_RDONLY)
        }
    }

    @Test("missing directories are created 0700 on the whole way, and reported as created", arguments: resolutions)
    func creation(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        let location = TreePath(base: temporary.path + "/vmail/example.com", components: ["alice", "Maildir"])
        let opened = try TreeDirectory.open(location, create: DirectoryCreation(), resolution: resolution)
        #expect(opened.path == temporary.path + "/vmail/example.com/alice/Maildir")
        var info = stat()
        #expect(stat(opened.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        var created = false
        _ = try opened.openDirectory("new", create: DirectoryCreation(), created: &created)
        #expect(created)
        _ = try opened.openDirectory("new", create: DirectoryCreation(), created: &created)
        #expect(!created)
        #expect(throws: FileAccessError.self) { _ = try opened.openDirectory("cur") }
        let missing = #expect(throws: FileAccessError.self) { _ = try opened.openDirectory("cur") }
        #expect(missing?.isNotFound == true)
    }

    @Test("entries, status without following, rename and fsync work through the descriptor", arguments: resolutions)
    func entriesAndRenames(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        try makeDirectory(temporary.path + "/tmp")
        try symlink("/etc/passwd", at: temporary.path + "/link")
        let base = try TreeDirectory.openBase(temporary.path, resolution: resolution)
        let tmp = try base.openDirectory("tmp")
        let file = try tmp.openFile("x", flags: O_WRONLY | O_CREAT | O_EXCL)
        #expect(file.close() == nil)
        try tmp.rename("x", to: base, as: "y")
        try base.sync()
        #expect(try base.entries().sorted() == ["link", "tmp", "y"])
        #expect(try tmp.entries().isEmpty)
        let link = try base.status(of: "link")
        #expect(link.map { $0.st_mode & S_IFMT } == S_IFLNK)
        #expect(try base.status(of: "absent") == nil)
    }

    @Test("names that are not one level are refused before any system call", arguments: resolutions)
    func invalidNames(resolution: LinkFreeResolution) throws {
        let temporary = try TemporaryDirectory()
        try makeDirectory(temporary.path + "/a/b")
        let base = try TreeDirectory.openBase(temporary.path, resolution: resolution)
        for name in ["..", ".", "", "a/b", "x\u{0}y"] {
            #expect(throws: FileAccessError.self) { _ = try base.openDirectory(name) }
            #expect(throws: FileAccessError.self) { _ = try base.openFile(name, flags: O_RDONLY) }
        }
        #expect(throws: FileAccessError.self) { _ = try base.openDirectory(components: ["a", "..", "a"]) }
        #expect(throws: FileAccessError.self) { _ = try TreeDirectory.openBase("relative/path") }
    }
}

struct TreeTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("TreeDirectory.lock with a bounded wait")
struct TreeDirectoryLockTests {
    @Test("a lock another open holds: taken once free, else lockTimeout after the wait; nil waits without a bound")
    func boundedWait() throws {
        let temporary = try TemporaryDirectory()
        let holder = open(temporary.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(holder >= 0)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)

        let directory = try TreeDirectory.open(TreePath(base: temporary.path))
        let start = ContinuousClock.now
        #expect(throws: FileAccessError.lockTimeout(path: temporary.path, seconds: 0.3)) {
            try directory.lock(exclusive: false, timeout: 0.3)
        }
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(300) && waited < .seconds(10), "waited \(waited)")
        #expect("\(FileAccessError.lockTimeout(path: "/m", seconds: 120))"
            == "flock(/m) timed out after 120 s: another process holds the lock (raise mail_max_lock_timeout, or find the process holding it)")

        // Released: taken at once, shared or exclusive.
        #expect(flock(holder, LOCK_UN) == 0)
        try directory.lock(exclusive: true, timeout: 0.3)
        let other = try TreeDirectory.open(TreePath(base: temporary.path))
        #expect(throws: FileAccessError.lockTimeout(path: temporary.path, seconds: 0)) {
            try other.lock(exclusive: true, timeout: 0)
        }
    }
}
