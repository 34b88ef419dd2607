import BeaconPrimitives

#if GRPC
package import GRPCNIOTransportHTTP2
#endif

/// A manager's `host:port`, `[ipv6]:port` or `ipv4:port` address, parsed into a gRPC target.
/// The parsing builds without the GRPC trait too, so `beacon agent` checks its addresses in
/// every build.
package struct ManagerAddress: Hashable, Sendable {
    package let host: String
    package let port: Int

    package init(_ text: String) throws(AgentError) {
        guard let parts = HostPortText(text) else {
            throw .invalidConfiguration(
                "manager address \(text) is not host:port (an IPv6 address goes in brackets: [::1]:4242)")
        }
        guard !parts.host.isEmpty else { throw .invalidConfiguration("manager address \(text) has no host") }
        guard let number = parts.portNumber, (1...65535).contains(number) else {
            throw .invalidConfiguration("manager address \(text) has no port in 1...65535")
        }
        self.host = String(parts.host)
        self.port = number
    }
}

#if GRPC
extension ManagerAddress {
    package var target: any ResolvableTarget {
        if HostPortText.isIPv6Address(host) { return .ipv6(address: host, port: port) }
        if HostPortText.isIPv4Address(host) { return .ipv4(address: host, port: port) }
        return .dns(host: host, port: port)
    }
}
#endif
