import Testing

@testable import HomingDelivery

@Suite("System directories Homing never delivers into")
struct SystemDirectoryCheckTests {
    @Test("the system's own directories and everything below them are refused", arguments: [
        "/root", "/root/Maildir", "/etc", "/etc/postfix", "/bin", "/usr", "/usr/local/mail", "/proc/1", "/sys/kernel",
        "/dev/shm/x", "/run/user/1000", "/boot", "/lib64", "/sbin", "/var/log/mail", "/var/cache/x", "/var/run",
    ])
    func systemTrees(path: String) {
        #expect(SystemDirectoryCheck.problem(with: path) != nil)
    }

    @Test("/ and the shared top-level directories are refused themselves, not what is below them")
    func sharedParents() {
        for path in ["/", "/home", "/home/", "//home", "/var", "/var/mail", "/var/spool", "/srv", "/tmp", "/opt", "/mnt"] {
            #expect(SystemDirectoryCheck.problem(with: path) != nil, "\(path)")
        }
        for path in ["/home/alice", "/var/mail/alice", "/var/vmail", "/var/vmail/example.com/alice", "/srv/mail/a", "/tmp/homing-it.x/mail", "/opt/mail/a"] {
            #expect(SystemDirectoryCheck.problem(with: path) == nil, "\(path)")
        }
    }

    @Test("a relative path or one with .. levels is refused, with a reason a person understands")
    func malformed() {
        #expect(SystemDirectoryCheck.problem(with: "home/alice") == "is not an absolute path without .. levels")
        #expect(SystemDirectoryCheck.problem(with: "/var/vmail/../../etc") == "is not an absolute path without .. levels")
        #expect(SystemDirectoryCheck.problem(with: "/root") == "is a system directory (/root)")
        #expect(SystemDirectoryCheck.problem(with: "/etc/x") == "is inside the system directory /etc")
    }
}
