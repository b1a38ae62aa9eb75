import HomingLMTP
import NIOCore
import NIOPosix
import Synchronization

/// A client connection to a proxy destination (an LMTP or SMTP server): connect and greeting,
/// `LHLO`/`EHLO` and its capabilities, commands with their replies, and message bytes written
/// with backpressure (each write is awaited until the socket took it). Any failure closes the
/// connection and is thrown as an ``LMTPClientError``; ``isUsable`` is then false.
public final class LMTPClientConnection: Sendable {
    /// Where it is connected to.
    public let destination: ProxyDestination
    private let channel: any Channel
    private let state = Mutex(State())

    private struct State {
        var capabilities: [String: [String]] = [:]
        var broken = false
        var xclientSent: [String]?
    }

    private init(destination: ProxyDestination, channel: any Channel) {
        self.destination = destination
        self.channel = channel
    }

    /// Connects (within `timeout`) and reads the greeting, which must be `220`.
    public static func connect(
        to destination: ProxyDestination, timeout: TimeAmount, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(LMTPClientError) -> LMTPClientConnection {
        let eventLoop = group.next()
        let greeting = eventLoop.makePromise(of: [LMTPReply].self)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LMTPClientHandler(greeting: greeting, timeout: timeout))
                }
            }
        if let sourceIP = destination.sourceIP {
            do {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceIP, port: 0))
            } catch {
                greeting.fail(LMTPClientError.connectFailed("Invalid source_ip \(sourceIP)"))
                throw .connectFailed("Invalid source_ip \(sourceIP): \(error)")
            }
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: destination.connectHost, port: destination.port).get()
        } catch {
            greeting.fail(LMTPClientError.connectFailed("\(error)"))
            throw Self.connectError(error, destination: destination)
        }
        let connection = LMTPClientConnection(destination: destination, channel: channel)
        let replies: [LMTPReply]
        do {
            replies = try await greeting.futureResult.get()
        } catch {
            throw connection.failed(error)
        }
        guard let reply = replies.first, reply.code == 220 else {
            throw connection.failed(LMTPClientError.badReply("Unexpected greeting: \(replies.first?.description ?? "")"))
        }
        return connection
    }

    private static func connectError(_ error: any Error, destination: ProxyDestination) -> LMTPClientError {
        let target = "\(destination.connectHost):\(destination.port)"
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil) {
                return .hostLookupFailed("DNS lookup for \(destination.connectHost) failed")
            }
            if let first = error.connectionErrors.first {
                if case ChannelError.connectTimeout = first.error {
                    return .timedOut("Connecting to \(target) timed out")
                }
                return .connectFailed("Failed to connect to \(target): \(first.error)")
            }
        }
        if case ChannelError.connectTimeout = error { return .timedOut("Connecting to \(target) timed out") }
        return .connectFailed("Failed to connect to \(target): \(error)")
    }

    /// Whether the connection may still be used (open, nothing failed on it).
    public var isUsable: Bool { channel.isActive && !state.withLock { $0.broken } }

    /// The capabilities of the last `LHLO`/`EHLO` reply, upper-cased keyword → arguments.
    public var capabilities: [String: [String]] { state.withLock { $0.capabilities } }

    /// The XCLIENT attributes last sent successfully (to tell whether a reused connection
    /// already carries the right client), or `nil`.
    public var xclientSent: [String]? {
        get { state.withLock { $0.xclientSent } }
        set { state.withLock { $0.xclientSent = newValue } }
    }

    /// `LHLO name` (or `EHLO` for SMTP); a refusal is a ``LMTPClientError/badReply(_:)``.
    public func hello(_ name: String, timeout: TimeAmount) async throws(LMTPClientError) {
        let verb = destination.proto == .lmtp ? "LHLO" : "EHLO"
        let reply = try await command("\(verb) \(name)", timeout: timeout)
        guard reply.isPositive else { throw failed(LMTPClientError.badReply("\(verb) refused: \(reply)")) }
        var capabilities: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            capabilities[keyword.uppercased()] = Array(words.dropFirst())
        }
        state.withLock { $0.capabilities = capabilities }
    }

    /// Sends one command line (CRLF added) and waits for its reply.
    public func command(_ line: String, timeout: TimeAmount) async throws(LMTPClientError) -> LMTPReply {
        var bytes = channel.allocator.buffer(capacity: line.utf8.count + 2)
        bytes.writeString(line)
        bytes.writeStaticString("\r\n")
        let replies = try await send(bytes, replies: 1, timeout: timeout)
        guard let reply = replies.first else { throw failed(LMTPClientError.badReply("No reply")) }
        return reply
    }

    /// Writes message bytes; returns once the socket has taken them (backpressure). A write
    /// that does not complete within `timeout` (the destination stopped reading) fails.
    public func write(_ bytes: ByteBuffer, timeout: TimeAmount) async throws(LMTPClientError) {
        _ = try await send(bytes, replies: 0, timeout: timeout)
    }

    /// Writes `bytes` and waits for `replies` replies (the end of data: one per recipient).
    public func send(_ bytes: ByteBuffer, replies: Int, timeout: TimeAmount) async throws(LMTPClientError) -> [LMTPReply] {
        if state.withLock({ $0.broken }) { throw .connectionLost("Connection already failed") }
        let promise = channel.eventLoop.makePromise(of: [LMTPReply].self)
        let request = LMTPClientRequest(bytes: bytes, replies: replies, promise: promise, timeout: timeout)
        let channel = self.channel
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(request, promise: written)
        let fired = WatchdogFlag()
        let watchdog = channel.eventLoop.scheduleTask(in: timeout) {
            fired.set()
            channel.close(promise: nil)
        }
        do {
            try await written.futureResult.get()
            watchdog.cancel()
            return try await promise.futureResult.get()
        } catch {
            watchdog.cancel()
            // A write refused before it reached the handler (the channel already closed) leaves
            // the reply promise to us; completing an already completed promise does nothing.
            promise.fail(LMTPClientError.connectionLost("\(error)"))
            if fired.isSet {
                throw failed(LMTPClientError.timedOut("Writing to \(destination) did not complete within \(timeout.nanoseconds / 1_000_000_000) s"))
            }
            throw failed(error)
        }
    }

    /// Marks the connection broken, closes it, and gives the error to throw.
    private func failed(_ error: any Error) -> LMTPClientError {
        state.withLock { $0.broken = true }
        channel.close(promise: nil)
        if let error = error as? LMTPClientError { return error }
        return .connectionLost("Connection to \(destination) failed: \(error)")
    }

    /// Sends `QUIT` (without waiting long) and closes.
    public func close() async {
        if isUsable {
            _ = try? await command("QUIT", timeout: .seconds(2))
        }
        state.withLock { $0.broken = true }
        try? await channel.close()
    }

    /// Runs `body` once the channel has closed (at once when it already has), whatever closed it.
    public func whenClosed(_ body: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in body() }
    }

    /// Closes at once.
    public func abort() {
        state.withLock { $0.broken = true }
        channel.close(promise: nil)
    }
}

/// Whether a write's watchdog closed the connection (the write or its replies took too long).
private final class WatchdogFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
