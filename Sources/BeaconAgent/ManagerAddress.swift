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
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidConfiguration("manager address \(text) has no port") }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .invalidConfiguration("manager address \(text) has no port (host:port)")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .invalidConfiguration("manager address \(text) has no host") }
        guard let number = Int(port), (1...65535).contains(number) else {
            throw .invalidConfiguration("manager address \(text) has no port in 1...65535")
        }
        self.host = String(host)
        self.port = number
    }
}

#if GRPC
extension ManagerAddress {
    package var target: any ResolvableTarget {
        if host.contains(":") { return .ipv6(address: host, port: port) }
        if host.split(separator: ".").count == 4, host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .ipv4(address: host, port: port)
        }
        return .dns(host: host, port: port)
    }
}
#endif
