#if GRPC
import BeaconAgent
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherService
import BeaconMetricsEndpoint
import Metrics
import Testing

/// `beacon serve --metrics`: the process scraped while agents load it, and the endpoint's own
/// answers. Nothing asserts a duration; the waits are bounded only so a broken build fails.
@Suite(.timeLimit(.minutes(3))) struct MetricsEndpointTests {
    /// Waits until a scrape of `port` satisfies `condition` and returns it; the last scrape when
    /// none does within about 60 s.
    private func scrape(_ port: Int, until condition: (PrometheusExposition) -> Bool) async throws
        -> PrometheusExposition
    {
        var last = try PrometheusExposition("")
        for _ in 0..<600 {
            let answer = try await HTTPScrape.request(port: port)
            #expect(answer.status == 200)
            last = try PrometheusExposition(answer.body)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    @Test func serveExportsHeartbeatsAndSessionsThatRiseUnderLoad() async throws {
        let serve = try ServeProcess([
            "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--period", "200ms", "--jitter", "20ms", "--grace",
            "10",
            "--report-every", "1s", "--heartbeat-datagrams",
        ])
        let metricsPort = try #require(
            try await serve.port(announcedBy: "metrics on"), "serve printed no metrics address: \(serve.logged)")
        let grpcPort = try #require(
            try await serve.port(announcedBy: "serving the dispatcher"), "serve printed no address: \(serve.logged)")

        // Load as `beacon loadgen` makes it: agents multiplexed over a few shared connections.
        let connections = try ManagerConnections(connectionsPerManager: 2)
        let backoff = try Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        let agents = try (0..<40).map { index in
            try NodeAgent(
                configuration: AgentConfiguration(
                    node: nodeID("scraped-\(index)"), description: nil, managers: ["127.0.0.1:\(grpcPort)"],
                    backoff: backoff,
                    heartbeatTransport: [.stream, .unaryCalls, .datagrams][index % 3]),
                connections: connections)
        }
        let running = agents.map { agent in Task { try await agent.run() } }

        let ready = #"state="ready""#
        let first = try await scrape(metricsPort) { scraped in
            scraped.value("beacon_dispatcher_nodes", ready) == 40
                && (scraped.value("beacon_dispatcher_heartbeats_total") ?? 0) > 0
        }
        #expect(first.value("beacon_dispatcher_nodes", ready) == 40)
        let beats = try #require(first.value("beacon_dispatcher_heartbeats_total"))
        let registrations = try #require(first.value("beacon_dispatcher_registrations_total"))
        #expect(registrations >= 40)
        let second = try await scrape(metricsPort) { scraped in
            (scraped.value("beacon_dispatcher_heartbeats_total") ?? 0) > beats
                && (scraped.value("beacon_rpc_duration_seconds_count", #"method="HeartbeatStream""#) ?? 0)
                    > (first.value("beacon_rpc_duration_seconds_count", #"method="HeartbeatStream""#) ?? 0)
                && (scraped.value("beacon_heartbeat_datagrams_total", #"outcome="answered""#) ?? 0)
                    > (first.value("beacon_heartbeat_datagrams_total", #"outcome="answered""#) ?? 0)
        }
        #expect(
            (second.value("beacon_heartbeat_datagrams_total", #"outcome="answered""#) ?? 0)
                > (first.value("beacon_heartbeat_datagrams_total", #"outcome="answered""#) ?? 0),
            "answered datagrams rose between two scrapes")
        #expect(
            try #require(second.value("beacon_dispatcher_heartbeats_total")) > beats,
            "heartbeats rose between two scrapes")
        #expect(try #require(second.value("beacon_dispatcher_registrations_total")) >= registrations)

        // Every family the dispatcher and the server describe is there, with its help and type.
        for family in [
            "beacon_dispatcher_nodes", "beacon_dispatcher_heartbeats_total", "beacon_dispatcher_registrations_total",
            "beacon_dispatcher_expiries_total", "beacon_dispatcher_store_writes_total",
            "beacon_dispatcher_store_write_duration_seconds", "beacon_dispatcher_store_write_batch_size",
            "beacon_rpc_duration_seconds", "beacon_heartbeat_datagrams_total",
        ] {
            #expect(second.types[family] != nil, "no # TYPE for \(family)")
            #expect(second.help[family]?.isEmpty == false, "no # HELP for \(family)")
        }
        #expect(second.types["beacon_rpc_duration_seconds"] == "histogram")
        for method in ["Session", "Heartbeat", "HeartbeatStream", "Assignments"] {
            #expect(
                (second.value("beacon_rpc_duration_seconds_count", "method=\"\(method)\"") ?? 0) > 0,
                "no \(method) calls timed")
        }
        #expect((second.value("beacon_dispatcher_store_write_batch_size_count") ?? 0) > 0)

        for task in running { task.cancel() }
        for task in running { _ = await task.result }
        await connections.close()
        #expect(serve.terminate() == 0, "serve did not stop cleanly on SIGTERM: \(serve.logged)")
    }

    @Test func theEndpointAnswersOnlyMetrics() async throws {
        let factory = DescribedPrometheusFactory(describing: DispatcherMetrics.descriptions)
        Counter(label: "beacon_dispatcher_heartbeats_total", factory: factory).increment(by: 3)
        Recorder(label: "an_undescribed_gauge", aggregate: false, factory: factory).record(7)
        let endpoint = try await MetricsEndpoint.bind(host: "127.0.0.1", port: 0, registry: factory.registry)

        let metrics = try await HTTPScrape.request(port: endpoint.port)
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let scraped = try PrometheusExposition(metrics.body)
        #expect(scraped.value("beacon_dispatcher_heartbeats_total") == 3)
        #expect(scraped.help["beacon_dispatcher_heartbeats_total"]?.hasPrefix("Heartbeats accepted") == true)
        #expect(scraped.types["an_undescribed_gauge"] == "gauge" && scraped.help["an_undescribed_gauge"] == nil)

        #expect(try await HTTPScrape.request(port: endpoint.port).status == 200, "a second scrape on a new connection")
        #expect(try await HTTPScrape.request("GET", "/", port: endpoint.port).status == 404)
        let post = try await HTTPScrape.request("POST", "/metrics", port: endpoint.port)
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
        let head = try await HTTPScrape.request("HEAD", "/metrics", port: endpoint.port)
        #expect(head.status == 200 && head.body.isEmpty)
        await endpoint.close()
    }

    /// A client that connects and stalls (sending nothing, or half a request head), or that
    /// sends a body a byte at a time, is disconnected at the request deadline, a fixed time after
    /// it connected (without it the first two reads never end, and a timer reset by each byte
    /// would let the drip run to its end), and the endpoint goes on answering others. The
    /// deadline (1 s) leaves a whole request room to arrive on a machine busy with other suites:
    /// at 300 ms the last, well-formed request was once cut off too.
    @Test func aRequestNotWholeByItsDeadlineIsCutOff() async throws {
        let factory = DescribedPrometheusFactory(describing: [])
        let endpoint = try await MetricsEndpoint.bind(
            host: "127.0.0.1", port: 0, registry: factory.registry, requestTimeout: .seconds(1))
        #expect(try await HTTPScrape.send("", port: endpoint.port).isEmpty)
        #expect(try await HTTPScrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\n", port: endpoint.port).isEmpty)
        let slowBody = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
        #expect(try await HTTPScrape.drip(slowBody, every: .milliseconds(50), count: 200, port: endpoint.port))
        #expect(try await HTTPScrape.request(port: endpoint.port).status == 200)
        await endpoint.close()
    }

    @Test func aRequestTimeoutMustBePositive() async throws {
        let factory = DescribedPrometheusFactory(describing: [])
        let error = await #expect(throws: MetricsEndpointError.self) {
            try await MetricsEndpoint.bind(
                host: "127.0.0.1", port: 0, registry: factory.registry, requestTimeout: .zero)
        }
        #expect(error?.description == "cannot serve metrics on 127.0.0.1:0: the request timeout must be positive")
    }

    @Test func aPortInUseIsNamedInTheError() async throws {
        let factory = DescribedPrometheusFactory(describing: [])
        let first = try await MetricsEndpoint.bind(host: "127.0.0.1", port: 0, registry: factory.registry)
        let error = await #expect(throws: MetricsEndpointError.self) {
            try await MetricsEndpoint.bind(host: "127.0.0.1", port: first.port, registry: factory.registry)
        }
        #expect(error?.description == "cannot serve metrics on 127.0.0.1:\(first.port): Address already in use")
        await first.close()
    }
}
#endif
