#if GRPC
import BeaconDispatcher
import BeaconDispatcherAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// Finds the node a call comes from: the `beacon-node-id` request metadata, which over mutual
/// TLS must also be the common name of the client's certificate (as SwarmKit names a node by its
/// certificate's CN), so one node cannot act for another.
struct NodeAuthenticator: Sendable {
    /// Whether every call must carry a client certificate naming its node.
    let requiresCertificate: Bool

    func node(of metadata: Metadata, context: ServerContext) throws(RPCError) -> NodeID {
        var values = metadata[stringValues: DispatcherWire.nodeIDMetadataKey].makeIterator()
        guard let claimed = values.next() else {
            throw RPCError(
                code: .permissionDenied,
                message: "Permission denied: the call names no node (set the \(DispatcherWire.nodeIDMetadataKey) metadata)")
        }
        guard values.next() == nil else {
            throw RPCError(code: .permissionDenied, message: "Permission denied: the call names more than one node")
        }
        let node: NodeID
        do {
            node = try NodeID(claimed)
        } catch {
            throw RPCError(code: .permissionDenied, message: "Permission denied: \(error)")
        }
        let certificate = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
        if let certificate {
            let names = Self.commonNames(of: certificate)
            guard names.contains(node.rawValue) else {
                throw RPCError(
                    code: .permissionDenied,
                    message: "Permission denied: the client certificate names \(names.joined(separator: ", ")), not node \(node)")
            }
        } else if requiresCertificate {
            throw RPCError(code: .permissionDenied, message: "Permission denied: the call carries no client certificate")
        }
        return node
    }

    static func commonNames(of certificate: Certificate) -> [String] {
        certificate.subject.flatMap { name in
            name.filter { $0.type == .RDNAttributeType.commonName }.compactMap { String($0.value) }
        }
    }
}
#endif
