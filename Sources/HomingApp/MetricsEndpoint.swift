import CoreMetrics
import HomingConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The OpenMetrics (Prometheus text) export, configured as Dovecot 2.3 configures its own:
///
/// ```
/// service stats {
///   inet_listener http {
///     address = 127.0.0.1
///     port = 9900
///   }
/// }
/// ```
///
/// `GET /metrics` answers the counters the program records through swift-metrics (deliveries
/// and recipients by result and reason, bytes, delivery and userdb lookup latency, userdb
/// lookups and failures by driver, the SQL pool, LMTP connections and open sessions). Without
/// the block nothing listens and nothing is bootstrapped: recording then costs nothing.
public final class MetricsEndpoint: Service {
    private let registry: PrometheusCollectorRegistry
    private let listeners: [InetListenerSettings]
    private let logger: Logger
    private let group: any EventLoopGroup

    /// Bootstraps swift-metrics with a Prometheus registry (once per process) and prepares the
    /// listeners.
    public init(
        listeners: [InetListenerSettings], logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.registry = Self.bootstrapped
        self.listeners = listeners
        self.logger = logger
        self.group = group
    }

    /// The registry every metric goes to; bootstrapping happens the first time it is asked for.
    private static let bootstrapped: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The text `GET /metrics` answers.
    public func text() -> [UInt8] { registry.emitToBuffer() }

    public func run() async throws {
        var channels: [any Channel] = []
        let registry = self.registry
        for listener in listeners where listener.port != 0 {
            for address in listener.addresses.isEmpty ? ["*"] : listener.addresses {
                let host = address == "*" ? "0.0.0.0" : address == "::" || address == "[::]" ? "::" : address
                do {
                    let channel = try await ServerBootstrap(group: group)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelInitializer { child in
                            child.eventLoop.makeCompletedFuture {
                                try child.pipeline.syncOperations.configureHTTPServerPipeline()
                                try child.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                            }
                        }
                        .bind(host: host, port: listener.port).get()
                    channels.append(channel)
                } catch {
                    for channel in channels { try? await channel.close() }
                    throw ConfigError(
                        "service stats inet_listener \(listener.name) (\(host):\(listener.port)): \(error)",
                        at: listener.location)
                }
            }
        }
        guard !channels.isEmpty else { return }
        let bound = channels
        let addresses = bound.compactMap { channel in channel.localAddress.flatMap { address in address.ipAddress.map { "http://\($0):\(address.port ?? 0)/metrics" } } }
        logger.info("metrics at \(addresses.joined(separator: ", "))")
        await withGracefulShutdownHandler {
            for channel in bound { try? await channel.closeFuture.get() }
        } onGracefulShutdown: {
            for channel in bound { channel.close(promise: nil) }
        }
    }
}

/// Answers `GET /metrics` (and `HEAD`) with the registry's text; anything else is 404 or 405.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let request else { return }
            self.request = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        var body: [UInt8]
        var contentType = "text/plain; charset=utf-8"
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        if request.method != .GET && request.method != .HEAD {
            (status, body) = (.methodNotAllowed, Array("only GET\n".utf8))
        } else if path == "/metrics" {
            (status, body) = (.ok, registry.emitToBuffer())
            contentType = "text/plain; version=0.0.4; charset=utf-8"
        } else {
            (status, body) = (.notFound, Array("not found: try /metrics\n".utf8))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        if request.method == .HEAD { body = [] }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let keepAlive = request.isKeepAlive
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
