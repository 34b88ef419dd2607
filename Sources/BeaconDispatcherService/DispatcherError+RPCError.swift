#if GRPC
public import BeaconDispatcher
public import GRPCCore

extension DispatcherError {
    /// The gRPC status SwarmKit answers with for this error (its dispatcher's error table): a
    /// stopped dispatcher is Aborted, an unknown node NotFound, a stale session and a malformed
    /// argument InvalidArgument, the registration rate limit and store failures Unavailable, a
    /// foreign task PermissionDenied, a full node table ResourceExhausted.
    ///
    /// `wrongManager(node:owner:)` (FailedPrecondition) carries the owner in the metadata too,
    /// under `ownerIDMetadataKey` and `ownerAddressMetadataKey`, so a client can go there without
    /// parsing the message. `assignmentsBehind(limit:)` (ResourceExhausted) carries its limit
    /// under `assignmentsBehindMetadataKey`, so an agent does not take a message its own transport
    /// found too large for it.
    public var rpcError: RPCError {
        var metadata = Metadata()
        switch self {
        case .wrongManager(_, let owner?):
            metadata.addString(owner.nodeID, forKey: Self.ownerIDMetadataKey)
            metadata.addString(owner.address, forKey: Self.ownerAddressMetadataKey)
        case .assignmentsBehind(let limit):
            metadata.addString(String(limit), forKey: Self.assignmentsBehindMetadataKey)
        default:
            break
        }
        return RPCError(code: rpcCode, message: description, metadata: metadata)
    }

    var rpcCode: RPCError.Code {
        switch self {
        case .stopped: .aborted
        case .nodeNotRegistered, .nodeNotFound: .notFound
        case .sessionInvalid, .invalidArgument: .invalidArgument
        case .rateLimited, .storeFailure: .unavailable
        case .permissionDenied: .permissionDenied
        case .capacityExhausted, .assignmentsBehind: .resourceExhausted
        case .wrongManager: .failedPrecondition
        case .invalidConfiguration, .alreadyRunning: .internalError
        }
    }
}
#endif

#if GRPC
extension SessionID {
    /// A session id from a request; one that does not parse is refused as an unknown session
    /// would be.
    init(wire text: String) throws(RPCError) {
        do {
            try self.init(text)
        } catch {
            throw error.rpcError
        }
    }
}
#endif
