#if GRPC
import BeaconDispatcher
import BeaconDispatcherAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// Finds the node a call comes from: the `beacon-node-id` request metadata, which over mutual
/// TLS must also be the common name of the client's certificate (as SwarmKit names a node by its
/// certificate's CN), so one node cannot act for another. The decision is `NodeIdentity`'s, in
/// BeaconDispatcher where it is fuzzed; this type reads the call and answers a refusal with
/// PermissionDenied.
package struct NodeAuthenticator: Sendable {
    /// Whether every call must carry a client certificate naming its node.
    let requiresCertificate: Bool

    package init(requiresCertificate: Bool) {
        self.requiresCertificate = requiresCertificate
    }

    // Never inlined: the transport context and certificate it copies would otherwise become part
    // of every handler's async frame (3 KiB each), and a session's task keeps the task-allocator
    // slabs its deepest frame needed for as long as the session lives (docs/benchmarks.md).
    @inline(never)
    func node(of metadata: Metadata, context: ServerContext) throws(RPCError) -> NodeID {
        try node(
            claimed: metadata[stringValues: DispatcherWire.nodeIDMetadataKey],
            certificate: (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate)
    }

    /// The same decision for a call read off the HTTP/2 stream (``EventLoopHeartbeatHandler``).
    func node(claimed: some Sequence<String>, certificate: Certificate?) throws(RPCError) -> NodeID {
        do {
            return try NodeIdentity.resolve(
                claimed: claimed, certificateNames: certificate.map(Self.commonNames),
                requiresCertificate: requiresCertificate)
        } catch {
            throw Self.rpcError(error)
        }
    }

    /// Every refusal is PermissionDenied; a call naming no node is told which metadata to set.
    static func rpcError(_ error: NodeIdentityError) -> RPCError {
        let hint = error == .noClaim ? " (set the \(DispatcherWire.nodeIDMetadataKey) metadata)" : ""
        return RPCError(code: .permissionDenied, message: "Permission denied: \(error)\(hint)")
    }

    static func commonNames(of certificate: Certificate) -> [String] {
        certificate.subject.flatMap { name in
            name.filter { $0.type == .RDNAttributeType.commonName }.compactMap { String($0.value) }
        }
    }
}
#endif
