/// Decides which node a call comes from, from what the transport saw: the node ids the call
/// claims in its metadata and, over mutual TLS, the common names of the client's certificate.
///
/// A transport-free decision, so the gRPC service and the fuzzer run the same rule: exactly one
/// claim, a valid ``NodeID``, and, when the call carries a certificate, a common name equal to
/// the claim, so one node cannot act for another.
package enum NodeIdentity {
    /// The node `claimed` names, checked against the certificate.
    ///
    /// - Parameters:
    ///   - claimed: the call's node-id metadata values, in order; only the first two are read.
    ///   - certificateNames: the common names of the client certificate, or nil when the call
    ///     carries none.
    ///   - requiresCertificate: refuse a call that carries no certificate.
    /// - Throws: ``NodeIdentityError``; every case means the call is refused as permission denied.
    package static func resolve(
        claimed: some Sequence<String>, certificateNames: [String]?, requiresCertificate: Bool
    ) throws(NodeIdentityError) -> NodeID {
        var values = claimed.makeIterator()
        guard let claim = values.next() else { throw .noClaim }
        guard values.next() == nil else { throw .severalClaims }
        let node: NodeID
        do {
            node = try NodeID(claim)
        } catch {
            throw .invalidClaim(error)
        }
        if let certificateNames {
            // Byte for byte: `String` equality is Unicode canonical equivalence, under which a
            // certificate for "café" (precomposed) would admit the distinct node "cafe\u{301}".
            guard certificateNames.contains(where: { $0.utf8.elementsEqual(claim.utf8) }) else {
                throw .certificateNamesOtherNode(names: certificateNames, claimed: claim)
            }
        } else if requiresCertificate {
            throw .certificateMissing
        }
        return node
    }
}

/// Why ``NodeIdentity/resolve(claimed:certificateNames:requiresCertificate:)`` refused a call.
package enum NodeIdentityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call names no node.
    case noClaim
    /// The call names more than one node.
    case severalClaims
    /// The claimed id is not a valid node id.
    case invalidClaim(DispatcherError)
    /// The client certificate's common names do not include the claimed node.
    case certificateNamesOtherNode(names: [String], claimed: String)
    /// A certificate is required and the call carries none.
    case certificateMissing

    package var description: String {
        switch self {
        case .noClaim: "the call names no node"
        case .severalClaims: "the call names more than one node"
        case .invalidClaim(let error): "\(error)"
        case .certificateNamesOtherNode(let names, let claimed):
            "the client certificate names \(names.joined(separator: ", ")), not node \(claimed)"
        case .certificateMissing: "the call carries no client certificate"
        }
    }
}
