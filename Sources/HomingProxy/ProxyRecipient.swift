import HomingDelivery

/// A recipient accepted by ``LMTPProxyBackend``: delivered here, or relayed.
public enum ProxyRecipient: Sendable {
    /// Delivered on this node, as without proxying.
    case local(DeliveryUser)
    /// Relayed to `destination`; `position` is its place among that destination's accepted
    /// recipients in this transaction (the order of the destination's end-of-data replies).
    case relayed(destination: ProxyDestination, position: Int)
}
