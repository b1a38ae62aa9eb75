import HomingFileSystem
import Testing

@Suite("TreePath: where the administrator's part of a path ends")
struct TreePathTests {
    @Test("a path inside the home is split at the home: the home may be a link, nothing below it")
    func insideHome() throws {
        let path = try TreePath("/var/vmail/example.com/alice/Maildir/.lists", home: "/var/vmail/example.com/alice")
        #expect(path.base == "/var/vmail/example.com/alice")
        #expect(path.components == ["Maildir", ".lists"])
        #expect(path.path == "/var/vmail/example.com/alice/Maildir/.lists")
    }

    @Test("the home itself is the base with nothing below")
    func homeItself() throws {
        let path = try TreePath("/home/alice", home: "/home/alice/")
        #expect(path.base == "/home/alice")
        #expect(path.components.isEmpty)
        #expect(path.path == "/home/alice")
    }

    @Test("a path outside the home, or without one, is split at its parent: the path itself may not be a link")
    func outsideHome() throws {
        let noHome = try TreePath("/var/vmail/example.com/alice", home: nil)
        #expect(noHome.base == "/var/vmail/example.com")
        #expect(noHome.components == ["alice"])
        let elsewhere = try TreePath("/srv/mail/alice", home: "/home/alice")
        #expect(elsewhere.base == "/srv/mail")
        #expect(elsewhere.components == ["alice"])
        // A sibling whose name starts like the home is not inside it.
        let sibling = try TreePath("/home/alice2/Maildir", home: "/home/alice")
        #expect(sibling.base == "/home/alice2")
        #expect(sibling.components == ["Maildir"])
    }

    @Test("doubled slashes and . levels are normalised; .. levels, relative paths and / are refused")
    func normalisation() throws {
        let path = try TreePath("/home//alice/./Maildir/", home: "/home/alice")
        #expect(path.components == ["Maildir"])
        for bad in ["/home/alice/../bob", "Maildir", "/", ""] {
            #expect(throws: FileAccessError.self) { try TreePath(bad, home: "/home/alice") }
        }
    }

    @Test("appending adds levels below")
    func appending() throws {
        let path = try TreePath("/home/alice/Maildir", home: "/home/alice").appending("tmp", "x")
        #expect(path.components == ["Maildir", "tmp", "x"])
        #expect(TreePath(base: "/", components: ["etc"]).path == "/etc")
    }
}
