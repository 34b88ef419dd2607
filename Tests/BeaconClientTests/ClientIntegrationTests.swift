import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconLifecycle
import Logging
import ServiceLifecycle
import Testing

@Suite struct ClientIntegrationTests {
    @Test func theAdapterFollowsTheSessionsManagerList() throws {
        let m = manager()
        let adapter = ManagerListAdapter(feeding: m)
        try adapter.apply([
            WeightedManager(nodeID: "m1", address: "10.0.0.1:4242"), WeightedManager(nodeID: "m2", address: "10.0.0.2:4242"),
        ])
        #expect(m.servers.map(\.name) == ["m1", "m2"] && m.find()?.weight == 10)
        try adapter.apply([WeightedManager(nodeID: "m2", address: "10.0.0.2:4242"), WeightedManager(nodeID: "m3", address: "10.0.0.3:4242", weight: 20)])
        #expect(m.servers.map(\.name) == ["m2", "m3"])
        #expect(throws: ClientError.self) { try adapter.apply([WeightedManager(nodeID: "", address: "x")]) }
        #expect(m.servers.map(\.name) == ["m2", "m3"])
    }

    @Test func backoffDoublesToItsCeilingAndStartsOverAfterASuccess() throws {
        var backoff = try ReconnectBackoff()
        var random = SplitMix64(seed: 3)
        var ceilings: [Duration] = []
        for _ in 0 ..< 10 {
            let delay = backoff.nextDelay(using: &random)
            ceilings.append(delay)
        }
        let expected: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1_600), .milliseconds(3_200), .milliseconds(6_400), .seconds(8), .seconds(8), .seconds(8)]
        for (delay, ceiling) in zip(ceilings, expected) {
            #expect(delay <= ceiling && delay >= ceiling / 2)
        }
        backoff.reset()
        #expect(backoff.nextDelay(using: &random) <= .milliseconds(100))
        #expect(throws: ClientError.self) { _ = try ReconnectBackoff(initial: .zero) }
        #expect(throws: ClientError.self) { _ = try ReconnectBackoff(initial: .seconds(10), maximum: .seconds(1)) }
    }

    @Test func theManagerRunsAsAServiceAndStopsOnGracefulShutdown() async throws {
        let m = manager()
        m.add(server("s1"))
        let group = ServiceGroup(services: [ServerManagerService(m)], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(50))
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// Readers of `find` and `count` on several threads while a writer adds, removes and rotates:
/// run under ThreadSanitizer in CI.
@Suite struct ServerManagerConcurrencyTests {
    @Test func readersSeeWholeListsWhileWritersChangeThem() async {
        let m = manager()
        for i in 0 ..< 10 { m.add(server("s\(i)")) }
        await withTaskGroup(of: Int.self) { group in
            for _ in 0 ..< 3 {
                group.addTask {
                    var seen = 0
                    for _ in 0 ..< 20_000 {
                        if let front = m.find(), front.name.hasPrefix("s") { seen += 1 }
                        _ = m.count
                    }
                    return seen
                }
            }
            group.addTask {
                for round in 0 ..< 2_000 {
                    m.add(server("extra-\(round % 5)"))
                    if let front = m.find() { m.notifyFailed(front) }
                    m.remove(named: "extra-\((round + 2) % 5)")
                }
                return 0
            }
            var total = 0
            for await seen in group { total += seen }
            #expect(total > 0)
        }
        #expect(m.count >= 10)
    }
}
