import Glibc
import HomingTestSupport
import Testing

@testable import HomingMaildir

@Suite("acting as the user on the filesystem")
struct FilesystemIdentityTests {
    @Test("no identity means acting as the process")
    func noIdentity() throws {
        #expect(try FilesystemIdentity.plan(for: nil, processUID: 0, processGID: 0) == .actAsProcess)
        #expect(try FilesystemIdentity.plan(for: nil, processUID: 1000, processGID: 1000) == .actAsProcess)
    }

    @Test("root switches to the identity")
    func rootSwitches() throws {
        let identity = FilesystemIdentity(uid: 5000, gid: 5001)
        #expect(try FilesystemIdentity.plan(for: identity, processUID: 0, processGID: 0) == .switchTo(identity))
    }

    @Test("uid 0 or gid 0 is refused as a delivery identity")
    func superuserRefused() {
        for identity in [FilesystemIdentity(uid: 0, gid: 5000), FilesystemIdentity(uid: 5000, gid: 0)] {
            #expect(throws: FilesystemIdentityError.superuserRefused(identity)) {
                try FilesystemIdentity.plan(for: identity, processUID: 0, processGID: 0)
            }
        }
    }

    @Test("a non-root process can only act as itself")
    func notRoot() throws {
        let own = FilesystemIdentity(uid: 5000, gid: 5000)
        #expect(try FilesystemIdentity.plan(for: own, processUID: 5000, processGID: 5000) == .actAsProcess)
        let error = #expect(throws: FilesystemIdentityError.self) {
            try FilesystemIdentity.plan(for: FilesystemIdentity(uid: 4242, gid: 5000), processUID: 5000, processGID: 5000)
        }
        #expect(error == .notRootForUID(requested: 4242, processUID: 5000))
        #expect(error?.description == "cannot deliver as uid 4242: Homing runs as uid 5000 and is not root")
        #expect(throws: FilesystemIdentityError.notRootForGID(requested: 4243, processGID: 5000)) {
            try FilesystemIdentity.plan(for: FilesystemIdentity(uid: 5000, gid: 4243), processUID: 5000, processGID: 5000)
        }
    }

    @Test("as root the thread's filesystem ids switch inside the closure and are restored after", .enabled(if: isRoot))
    func switchAndRestore() throws {
        let before = try FilesystemIdentity.currentThreadIdentity()
        let inside = try FilesystemIdentity.withIdentity(FilesystemIdentity(uid: 4242, gid: 4243)) {
            () throws(FilesystemIdentityError) -> FilesystemIdentity in
            try FilesystemIdentity.currentThreadIdentity()
        }.get()
        #expect(inside == FilesystemIdentity(uid: 4242, gid: 4243))
        #expect(try FilesystemIdentity.currentThreadIdentity() == before)
        #expect(geteuid() == 0)
    }

    @Test("nested scopes: the same identity inside is the outer switch (no second one), another identity switches and comes back to the outer", .enabled(if: isRoot))
    func nested() throws {
        let before = try FilesystemIdentity.currentThreadIdentity()
        let alice = FilesystemIdentity(uid: 4242, gid: 4243)
        let bob = FilesystemIdentity(uid: 4344, gid: 4345)
        let seen = try FilesystemIdentity.withIdentity(alice) { () throws(FilesystemIdentityError) -> [FilesystemIdentity?] in
            var seen: [FilesystemIdentity?] = [try FilesystemIdentity.currentThreadIdentity(), ThreadIdentity.current]
            seen += try FilesystemIdentity.withIdentity(alice) { () throws(FilesystemIdentityError) -> [FilesystemIdentity?] in
                [try FilesystemIdentity.currentThreadIdentity(), ThreadIdentity.current]
            }.get()
            seen += try FilesystemIdentity.withIdentity(bob) { () throws(FilesystemIdentityError) -> [FilesystemIdentity?] in
                [try FilesystemIdentity.currentThreadIdentity(), ThreadIdentity.current]
            }.get()
            seen += [try FilesystemIdentity.currentThreadIdentity(), ThreadIdentity.current]
            return seen
        }.get()
        #expect(seen == [alice, alice, alice, alice, bob, bob, alice, alice])
        #expect(try FilesystemIdentity.currentThreadIdentity() == before)
        #expect(ThreadIdentity.current == nil)
    }

    @Test("the ids are restored when the closure throws", .enabled(if: isRoot))
    func restoreOnError() throws {
        struct Boom: Error, Equatable {}
        let before = try FilesystemIdentity.currentThreadIdentity()
        let outcome = try FilesystemIdentity.withIdentity(FilesystemIdentity(uid: 4242, gid: 4243)) {
            () throws(Boom) -> Int in throw Boom()
        }
        #expect(throws: Boom.self) { try outcome.get() }
        #expect(try FilesystemIdentity.currentThreadIdentity() == before)
    }

    @Test("permission checks really run as the user", .enabled(if: isRoot))
    func permissionsApply() throws {
        let directory = try TemporaryDirectory()
        chmod(directory.path, 0o700)
        let canOpen = try FilesystemIdentity.withIdentity(FilesystemIdentity(uid: 4242, gid: 4243)) {
            () -> Bool in
            let fd = open(directory.path, O_RDONLY | O_DIRECTORY)
            if fd >= 0 { close(fd) }
            return fd >= 0
        }.get()
        #expect(canOpen == false)
    }
}
