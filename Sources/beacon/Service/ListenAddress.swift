import ArgumentParser
import BeaconCommandLine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else if let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            throw ValidationError("\(option): \(CommandLineValueError.malformed(text, expected: Self.expected))")
        }
        guard Self.isAddress(String(host)), !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ValidationError("\(option): \(CommandLineValueError.malformed(text, expected: Self.expected))")
        }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw ValidationError("\(option): \(CommandLineValueError.outOfRange(text, expected: Self.expected))")
        }
        self.host = String(host)
        self.port = number
    }

    private static func isAddress(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}
