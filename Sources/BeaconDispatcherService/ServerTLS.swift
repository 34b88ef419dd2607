#if GRPC
import BeaconDispatcherAPI

/// TLS for a ``DispatcherServer``: its certificate chain and key, and, for mutual TLS, the CA
/// whose certificates clients must present. PEM text throughout.
public struct ServerTLS: Sendable, Hashable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    /// The CA client certificates must chain to; nil serves TLS without client certificates.
    public var clientCertificateAuthorityPEM: String?

    public init(certificateChainPEM: String, privateKeyPEM: String, clientCertificateAuthorityPEM: String? = nil) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCertificateAuthorityPEM = clientCertificateAuthorityPEM
    }

    /// Reads the three PEM files; throws ``ServiceError/unreadableFile(path:reason:)`` for one that
    /// cannot be read.
    public init(certificateChainFile: String, privateKeyFile: String, clientCertificateAuthorityFile: String?)
        throws(ServiceError)
    {
        try self.init(
            certificateChainPEM: Self.read(certificateChainFile), privateKeyPEM: Self.read(privateKeyFile),
            clientCertificateAuthorityPEM: clientCertificateAuthorityFile.map { path throws(ServiceError) in
                try Self.read(path)
            })
    }

    /// Whether clients must present a certificate.
    public var isMutual: Bool { clientCertificateAuthorityPEM != nil }

    static func read(_ path: String) throws(ServiceError) -> String {
        try PEMFile.read(path) { ServiceError.unreadableFile(path: path, reason: $0) }
    }
}
#endif
