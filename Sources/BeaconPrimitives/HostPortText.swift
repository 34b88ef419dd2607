#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `host:port` or `[ipv6]:port` text split into its two parts, unchecked beyond the split: what
/// `serve`'s listen addresses and an agent's manager addresses have in common. Each caller then
/// applies its own rules (a listener takes only numeric hosts and port 0; a manager may be a
/// name, on ports 1...65535).
package struct HostPortText {
    /// The host, without brackets; may be empty.
    package let host: Substring
    /// The text after the separating colon; may be empty or not a number.
    package let port: Substring

    /// Nil when `text` has no colon to split at, when a bracketed host is not followed by `:`,
    /// or when an unbracketed host has a colon of its own (`::1:80` could mean either `::1`
    /// port 80 or `::1:80` with no port, so an IPv6 host must be bracketed).
    package init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = rest.dropFirst()
        } else {
            guard let colon = text.firstIndex(of: ":"), !text[text.index(after: colon)...].contains(":") else {
                return nil
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
    }

    /// The port as a number when it is written in decimal digits alone (no sign, no space), nil
    /// otherwise. Digits too many for an `Int` read as `Int.max`: out of any port range, which is
    /// what the caller should say about them.
    package var portNumber: Int? {
        guard !port.isEmpty, port.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(port) ?? .max
    }

    /// Whether `host` is an IPv4 address in dotted decimal.
    package static func isIPv4Address(_ host: some StringProtocol) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, String(host), &address) == 1
    }

    /// Whether `host` is an address that stands for every address of the machine: 0.0.0.0, or
    /// `::` however it is spelt (`::0`, `0:0:0:0:0:0:0:0`), or its IPv4-mapped form
    /// (`::ffff:0.0.0.0`). Compared as the parsed bytes, not as text.
    package static func isWildcardAddress(_ host: some StringProtocol) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, String(host), &v4) == 1 { return v4.s_addr == 0 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, String(host), &v6) == 1 else { return false }
        return withUnsafeBytes(of: v6) { bytes in
            bytes.suffix(4).allSatisfy { $0 == 0 } && bytes.prefix(10).allSatisfy { $0 == 0 }
                && (bytes[10] == bytes[11]) && (bytes[10] == 0 || bytes[10] == 0xFF)
        }
    }

    /// Whether `host` is an IPv6 address (without brackets).
    package static func isIPv6Address(_ host: some StringProtocol) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, String(host), &address) == 1
    }
}
