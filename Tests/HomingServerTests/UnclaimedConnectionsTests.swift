import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import HomingServer

@Suite("UnclaimedConnections: every connection made is served or disposed of, once")
struct UnclaimedConnectionsTests {
    final class Disposed: Sendable {
        let names = Mutex<[String]>([])
        var all: [String] { names.withLock { $0 } }
    }

    @Test("a claimed connection is never disposed of; the rest are, when the registry closes")
    func claimThenClose() {
        let disposed = Disposed()
        let registry = UnclaimedConnections<String> { name in disposed.names.withLock { $0.append(name) } }
        let first = EmbeddedChannel()
        let second = EmbeddedChannel()
        registry.register("first", for: first)
        registry.register("second", for: second)
        #expect(registry.count == 2)
        #expect(registry.claim(first))
        #expect(!registry.claim(first), "claimed twice")
        #expect(disposed.all.isEmpty)
        registry.close()
        #expect(disposed.all == ["second"])
        #expect(!registry.claim(second), "disposed of, then claimed")
        registry.close()
        #expect(disposed.all == ["second"], "disposed of twice")
    }

    @Test("a connection registered after the registry closed is disposed of at once")
    func registerAfterClose() {
        let disposed = Disposed()
        let registry = UnclaimedConnections<String> { name in disposed.names.withLock { $0.append(name) } }
        registry.close()
        let late = EmbeddedChannel()
        registry.register("late", for: late)
        #expect(disposed.all == ["late"])
        #expect(registry.count == 0)
        #expect(!registry.claim(late))
    }
}
