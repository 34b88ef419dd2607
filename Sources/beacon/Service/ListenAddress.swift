import ArgumentParser
import BeaconCommandLine
import BeaconPrimitives

/// The address of a socket `serve` listens on (`--listen`, `--metrics`): an IPv4 address or a
/// bracketed IPv6 address, a colon and a port in 0...65535, where 0 lets the system choose a
/// free port (the command prints the one it got). Names are refused: a listener given a name
/// would bind whatever it resolves to, which is rarely what an operator meant.
struct ListenAddress {
    let host: String
    let port: Int

    static let expected =
        "host:port with an IPv4 address or a bracketed IPv6 address and a port in 0...65535 (127.0.0.1:9090, [::1]:9090)"

    init(_ text: String, option: String) throws(ValidationError) {
        guard let parts = HostPortText(text),
            HostPortText.isIPv4Address(parts.host) || HostPortText.isIPv6Address(parts.host),
            let number = parts.portNumber
        else {
            throw ValidationError("\(option): \(CommandLineValueError.malformed(text, expected: Self.expected))")
        }
        guard (0...65535).contains(number) else {
            throw ValidationError("\(option): \(CommandLineValueError.outOfRange(text, expected: Self.expected))")
        }
        host = String(parts.host)
        port = number
    }

    /// Whether the address stands for every address of the machine (`0.0.0.0`, `[::]`, `[::0]`, …),
    /// which no agent can be sent to and which every manager on the port shares.
    var isWildcard: Bool { HostPortText.isWildcardAddress(host) }

    /// `host:port` as a client dials it, IPv6 in brackets, with the port the listener got.
    func dialable(port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
