import Testing

/// `beacon serve | agent | loadgen` refuse bad input before they start, the same way in every
/// build: the command line is the same interface whatever the build, so these cases run in the
/// default build too. Only a command line they accept meets the build: without the GRPC trait
/// they then say so (the network CI step runs the same table in a GRPC build).
@Suite(.timeLimit(.minutes(5))) struct ServiceBadInputTests {
    @Test(arguments: [
        ("serve", "--metrics"), ("serve", "0...65535"), ("serve", "1ms...1h"), ("serve", "--log-level"),
        ("serve", "0...1000"), ("serve", "0...65536"), ("agent", "1...65535"), ("agent", "--log-level"),
        ("agent", "1ms...1000000s"), ("loadgen", "1...200000"), ("loadgen", "1...10000"), ("loadgen", "0s...1000000s"),
    ])
    func helpShowsTheRanges(command: String, text: String) async throws {
        let help = try await HelpText.of("beacon", [command])
        #expect(help.contains(text), "`beacon \(command) --help` does not show \(text)")
    }

    static let badInput: [RejectedInput] = [
        // serve
        .init(["serve", "--metrics", "127.0.0.1"], ["--metrics", "host:port"]),
        .init(["serve", "--metrics", "127.0.0.1:65536"], ["--metrics", "0...65535"]),
        .init(["serve", "--metrics", "127.0.0.1:-1"], ["--metrics", "0...65535"]),
        .init(["serve", "--metrics", "localhost:9090"], ["--metrics", "IPv4"]),
        .init(["serve", "--metrics", "::1:9090"], ["--metrics", "bracketed IPv6"]),
        .init(["serve", "--metrics", ""], ["--metrics"]),
        .init(["serve", "--listen", "127.0.0.1:99999999999999999999"], ["--listen", "0...65535"]),
        .init(["serve", "--listen", "[::1]"], ["--listen", "host:port"]),
        .init(["serve", "--log-level", "loud"], ["--log-level", "trace"]),
        .init(["serve", "--period", "0s"], ["--period", "1ms to 1h"]),
        .init(["serve", "--period", "2h"], ["--period", "1ms to 1h"]),
        .init(["serve", "--period", "5"], ["--period", "unit"]),
        .init(["serve", "--jitter", "5s"], ["--jitter", "below --period"]),
        // Each value in range, together past the wheel's longest deadline: refused before a port
        // or etcd is opened, not by the dispatcher at start.
        .init(["serve", "--period", "12m"], ["--period 12m", "--grace 3", "wheel's limit"]),
        .init(["serve", "--period", "30s", "--grace", "100"], ["--grace 100", "wheel's limit"]),
        .init(["serve", "--grace", "0.5"], ["--grace", "[1, 100]"]),
        .init(["serve", "--grace", "nan"], ["--grace", "[1, 100]"]),
        .init(["serve", "--grace", "101"], ["--grace", "[1, 100]"]),
        .init(["serve", "--report-every", "0s"], ["--report-every", "100ms to 1h"]),
        .init(["serve", "--tasks-per-node", "-1"], ["--tasks-per-node", "0...1000"]),
        .init(["serve", "--tasks-per-node", "100000000000"], ["--tasks-per-node", "0...1000"]),
        .init(["serve", "--task-bytes", "65537"], ["--task-bytes", "0...65536"]),
        .init(["serve", "--group", ""], ["--group"]),
        .init(["serve", "--name", "a b"], ["--name", "visible ASCII"]),
        .init(["serve", "--name", "a/b"], ["--name", "cannot name a member of a group"]),
        .init(["serve", "--name", "a,b"], ["--name", "cannot name a member of a group"]),
        .init(["serve", "--group", "beacon"], ["--group", "must start with the slash char"]),
        .init(["serve", "--group", "/beacon/"], ["--group"]),
        .init(["serve", "--expiry-log", "/nonexistent/folder/expiries"], ["--expiry-log", "existing folder"]),
        .init(["serve", "--tls-cert", "server.pem"], ["--tls-cert", "--tls-key"]),
        .init(
            ["serve", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], ["--tls-cert", "cannot read"]),
        .init(["serve", "--client-ca", "ca.pem"], ["--client-ca"]),
        .init(["serve", "--etcd", ""], ["--etcd"]),
        .init(["serve", "--etcd", "127.0.0.1:2379"], ["--etcd", "http://host:port"]),
        .init(["loadgen", "--etcd", "localhost:2379"], ["--etcd", "http://host:port"]),
        // agent
        .init(["agent", "--node", "n1"], ["--manager"]),
        .init(["agent", "--node", "n1", "--manager", "nohost"], ["--manager", "port"]),
        .init(["agent", "--node", "n1", "--manager", "::1:4242"], ["--manager", "brackets"]),
        .init(
            ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--manager", "127.0.0.1:4242"],
            ["--manager", "twice"]),
        .init(
            ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--manager", "127.0.0.1:04242"],
            ["--manager", "twice", "'127.0.0.1:04242'"]),
        .init(["loadgen", "--server-pid", "+5"], ["--server-pid", "'+5'"]),
        .init(["agent", "--node", "n1", "--manager", "127.0.0.1:0"], ["--manager", "1...65535"]),
        .init(["agent", "--node", "", "--manager", "127.0.0.1:4242"], ["--node", "visible ASCII"]),
        .init(["agent", "--node", "a\nb", "--manager", "127.0.0.1:4242"], ["--node", "visible ASCII"]),
        .init(
            ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--duration", "0s"],
            ["--duration", "1ms to 1000000s"]),
        .init(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--duration", "30"], ["--duration", "unit"]),
        .init(
            ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
            ["--tls-ca"]),
        .init(
            ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--tls-ca", "/nonexistent.pem"],
            ["--tls-ca", "cannot read"]),
        .init(["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--log-level", "verbose"], ["--log-level"]),
        // loadgen
        .init(["loadgen", "--nodes", "0"], ["--nodes", "1...200000"]),
        .init(["loadgen", "--nodes", "100000000000"], ["--nodes", "1...200000"]),
        .init(["loadgen", "--connections", "0"], ["--connections", "1...10000"]),
        .init(["loadgen", "--duration", "0s"], ["--duration", "1ms to 1000000s"]),
        .init(["loadgen", "--duration=-1s"], ["--duration", "no sign"]),
        .init(["loadgen", "--ramp", "99999999999h"], ["--ramp", "0s to 1000000s"]),
        .init(["loadgen", "--assignment-nodes", "-1"], ["--assignment-nodes", "0...200000"]),
        .init(["loadgen", "--nodes", "100", "--assignment-nodes", "5000"], ["--assignment-nodes", "0...100"]),
        .init(["loadgen", "--stop-fraction", "1.5"], ["--stop-fraction", "[0, 1]"]),
        .init(["loadgen", "--stop-fraction", "nan"], ["--stop-fraction", "[0, 1]"]),
        .init(["loadgen", "--period", "0s"], ["--period", "1ms to 1h"]),
        .init(["loadgen", "--jitter", "5s"], ["--jitter", "below --period"]),
        .init(["loadgen", "--period", "12m"], ["--period 12m", "wheel's limit"]),
        .init(["loadgen", "--grace", "0"], ["--grace", "[1, 100]"]),
        .init(["loadgen", "--prefix", ""], ["--prefix", "visible ASCII"]),
        .init(["loadgen", "--server-pid", "0"], ["--server-pid", "1...2147483647"]),
        .init(["loadgen", "--manager", "127.0.0.1"], ["--manager", "port"]),
        .init(["loadgen", "--manager", "127.0.0.1:1,127.0.0.1:1"], ["--manager", "twice"]),
        .init(["loadgen", "--manager", "127.0.0.1:1,"], ["--manager", "''"]),
        .init(
            ["loadgen", "--manager", "127.0.0.1:1,127.0.0.1:2", "--server-pid", "5"],
            ["--server-pid", "1 process ids for 2 managers"]),
        .init(["loadgen", "--server-pid", "5,x"], ["--server-pid", "'x'"]),
        .init(["loadgen", "--kill-after", "10s"], ["--kill-after", "--server-pid"]),
        .init(
            ["loadgen", "--manager", "127.0.0.1:1,127.0.0.1:2", "--server-pid", "5,6", "--kill-after", "2m"],
            ["--kill-after", "before the end"]),
        // serve --sharded
        .init(["serve", "--sharded"], ["--sharded needs --etcd"]),
        .init(["serve", "--advertise", "10.0.0.1:4242"], ["--advertise needs --sharded"]),
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--sharded", "--listen", "0.0.0.0:4242"],
            ["--sharded", "wildcard", "--advertise"]),
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--sharded", "--advertise", "10.0.0.1"],
            ["--advertise"]),
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--listen", "[::]:4242"], ["--etcd", "wildcard", "--name"]),
        // Any spelling of the wildcard address, compared as the address it parses to.
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--listen", "[::0]:4242"], ["--etcd", "wildcard", "--name"]),
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--listen", "[::ffff:0.0.0.0]:4242"],
            ["--etcd", "wildcard", "--name"]),
        .init(
            ["serve", "--etcd", "http://127.0.0.1:2379", "--sharded", "--listen", "[0:0:0:0:0:0:0:0]:4242"],
            ["--sharded", "wildcard", "--advertise"]),
        .init(
            [
                "serve", "--etcd", "http://127.0.0.1:2379", "--sharded", "--listen", "10.0.0.1:4242", "--advertise",
                "0.0.0.0:4242",
            ],
            ["--advertise", "wildcard"]),
        .init(["loadgen", "--log-level", "all"], ["--log-level"]),
        // serve --echo runs no dispatcher
        .init(["serve", "--echo", "--metrics", "127.0.0.1:0"], ["--echo", "--metrics", "nothing to act on"]),
        .init(["serve", "--echo", "--expiry-log", "/tmp/expiries"], ["--echo", "--expiry-log"]),
        .init(["serve", "--echo", "--heartbeat-datagrams"], ["--echo", "--heartbeat-datagrams"]),
        .init(["serve", "--echo", "--grpc-swift-heartbeats"], ["--echo", "--grpc-swift-heartbeats"]),
        // the heartbeat datagram lane
        .init(["serve", "--datagram-batching", "1ms"], ["--datagram-batching needs --heartbeat-datagrams"]),
        .init(
            ["serve", "--heartbeat-datagrams", "--datagram-batching", "101ms"], ["--datagram-batching", "0s to 100ms"]),
        .init(
            ["serve", "--heartbeat-datagrams", "--datagram-batching", "0.0005ms"],
            ["--datagram-batching", "a microsecond"]),
        .init(["loadgen", "--unary-heartbeats", "--datagram-heartbeats"], ["exclude each other"]),
    ]

    @Test(arguments: badInput)
    func refusesBadInput(_ input: RejectedInput) async throws {
        try await expectRejected("beacon", input.arguments, mentioning: input.mentioning)
    }

    #if !GRPC
    /// A command line the commands accept, in a build that cannot run them.
    @Test(arguments: [
        ["serve"], ["serve", "--metrics", "127.0.0.1:0", "--grace", "2"], ["serve", "--echo", "--jitter", "1s"],
        ["serve", "--heartbeat-datagrams", "--datagram-batching", "0.25ms"], ["serve", "--grpc-swift-heartbeats"],
        ["agent", "--node", "n1", "--manager", "127.0.0.1:4242"],
        ["agent", "--node", "n1", "--manager", "127.0.0.1:4242", "--datagram-heartbeats"],
        ["loadgen", "--nodes", "10"], ["loadgen", "--nodes", "10", "--datagram-heartbeats"],
    ])
    func saysTheGRPCTraitIsMissing(_ arguments: [String]) async throws {
        try await expectRejected(
            "beacon", arguments, mentioning: ["`beacon \(arguments[0])` needs the GRPC trait", "--traits GRPC"])
    }
    #endif
}
