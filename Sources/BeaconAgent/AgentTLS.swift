#if GRPC
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
}
#endif
