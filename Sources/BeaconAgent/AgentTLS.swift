#if GRPC
import BeaconDispatcherAPI

/// TLS for an agent's connections to its managers: the CA that signed the managers'
/// certificates and, for mutual TLS, the agent's own certificate (its common name must be the
/// node id) and key. PEM text throughout. A manager's certificate must name the host or IP
/// address the agent dials.
public struct AgentTLS: Sendable, Hashable {
    public var certificateAuthorityPEM: String
    public var certificateChainPEM: String?
    public var privateKeyPEM: String?
    public init(
        certificateAuthorityPEM: String, certificateChainPEM: String? = nil, privateKeyPEM: String? = nil
    ) {
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Reads the PEM files; throws ``AgentError/unreadableFile(path:reason:)`` for one that
    /// cannot be read.
    public init(certificateAuthorityFile: String, certificateChainFile: String?, privateKeyFile: String?)
        throws(AgentError)
    {
        func read(_ path: String) throws(AgentError) -> String {
            try PEMFile.read(path) { AgentError.unreadableFile(path: path, reason: $0) }
        }
        try self.init(
            certificateAuthorityPEM: read(certificateAuthorityFile),
            certificateChainPEM: certificateChainFile.map { path throws(AgentError) in try read(path) },
            privateKeyPEM: privateKeyFile.map { path throws(AgentError) in try read(path) })
    }
}
#endif
