import BeaconPrimitives
import Testing

/// The split every address option of the tools goes through: `serve --listen/--metrics` and the
/// agents' `--manager`.
@Suite struct HostPortTextTests {
    @Test(arguments: [
        ("127.0.0.1:80", "127.0.0.1", "80"), ("name:4242", "name", "4242"), ("[::1]:9090", "::1", "9090"),
        ("[::1]:", "::1", ""), (":80", "", "80"), ("host:", "host", ""), ("[]:1", "", "1"),
        ("[127.0.0.1]:5", "127.0.0.1", "5"),
    ])
    func splitsAtTheSeparatingColon(text: String, host: String, port: String) throws {
        let parts = try #require(HostPortText(text))
        #expect(parts.host == host && parts.port == port)
    }

    /// No colon to split at, a bracket never closed or not followed by a colon, and a bare IPv6
    /// address, whose last colon may or may not start the port.
    @Test(arguments: ["", "host", "[::1]", "[::1]80", "[::1:80", "::1:80", "a:b:c", "[::1]x:80"])
    func refusesTextThatIsNotHostColonPort(text: String) {
        #expect(HostPortText(text) == nil)
    }

    @Test func readsOnlyDecimalDigitsAsAPort() {
        #expect(HostPortText("h:4242")?.portNumber == 4242)
        #expect(HostPortText("h:0")?.portNumber == 0)
        #expect(HostPortText("h:99999999999999999999999")?.portNumber == .max)
        for port in ["", "-1", "+1", " 1", "1 ", "0x10", "١٢"] {
            #expect(HostPortText("h:\(port)")?.portNumber == nil, "port \(port)")
        }
    }

    /// The wildcard however it is spelt, compared as the address it parses to.
    @Test func findsTheWildcardAddressInEverySpelling() {
        for wildcard in ["0.0.0.0", "::", "::0", "0::", "0:0:0:0:0:0:0:0", "::0.0.0.0", "::ffff:0.0.0.0"] {
            #expect(HostPortText.isWildcardAddress(wildcard), "\(wildcard)")
        }
        for address in ["127.0.0.1", "0.0.0.1", "::1", "::ffff:127.0.0.1", "::ff:0.0.0.0", "fe80::", "localhost", ""] {
            #expect(!HostPortText.isWildcardAddress(address), "\(address)")
        }
    }

    @Test func tellsNumericAddressesFromNames() {
        #expect(HostPortText.isIPv4Address("10.0.0.1"))
        #expect(!HostPortText.isIPv4Address("10.0.0"))
        #expect(!HostPortText.isIPv4Address("localhost"))
        #expect(!HostPortText.isIPv4Address("::1"))
        #expect(HostPortText.isIPv6Address("::1"))
        #expect(HostPortText.isIPv6Address("fe80::1:2"))
        #expect(!HostPortText.isIPv6Address("10.0.0.1"))
        #expect(!HostPortText.isIPv6Address("[::1]"))
    }
}
