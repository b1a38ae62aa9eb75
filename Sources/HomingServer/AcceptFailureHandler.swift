import NIOCore

/// On the listening socket, in front of NIO's `AcceptBackoffHandler`: tells the admission when
/// `accept` fails for want of descriptors, then passes the error on (NIO pauses accepting).
final class AcceptFailureHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel

    private let admission: ConnectionAdmission

    init(admission: ConnectionAdmission) {
        self.admission = admission
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError { admission.acceptFailed(errno: error.errnoCode) }
        context.fireErrorCaught(error)
    }
}
