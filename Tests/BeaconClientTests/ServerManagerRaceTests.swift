import BeaconClient
import BeaconCore
import Synchronization
import Testing

/// What happens to the list while a rebalance waits on a ping, and to a failure report that
/// arrives after the list moved on: the order the client learnt last wins.
@Suite(.timeLimit(.minutes(1))) struct ServerManagerRaceTests {
    /// A manager over s1, s2 and s3 whose rebalance waits on its first ping, and the name of
    /// the server that ping is for.
    private func rebalanceWaitingOnAPing() async -> (
        manager: ServerManager, pinger: GatedPinger, rebalancing: Task<Bool, Never>, pinged: String?
    ) {
        let pinger = GatedPinger()
        let m = manager(pinger)
        for name in ["s1", "s2", "s3"] { m.add(server(name)) }
        let rebalancing = Task { await m.rebalance() }
        return (m, pinger, rebalancing, await pinger.nextPing())
    }

    @Test func aCancelledRebalanceChangesNothingAndLeavesTheManagerOnline() async {
        let (m, pinger, rebalancing, _) = await rebalanceWaitingOnAPing()
        let before = m.servers
        rebalancing.cancel()
        #expect(await rebalancing.value == false)
        #expect(!m.isOffline)
        #expect(m.servers == before)
        #expect(pinger.pings == 1)
    }

    @Test func aFailureReportedWhileRebalancingWinsOverTheNewOrder() async {
        let (m, pinger, rebalancing, _) = await rebalanceWaitingOnAPing()
        let failed = m.find()
        if let failed { m.notifyFailed(failed) }
        let reported = m.servers
        pinger.answer(true)
        #expect(await rebalancing.value == false)
        #expect(m.servers == reported)
        #expect(m.servers.last == failed)
        #expect(!m.isOffline)
    }

    @Test func aServerPreferredWhileRebalancingStaysInFront() async {
        let (m, pinger, rebalancing, _) = await rebalanceWaitingOnAPing()
        m.prefer(server("owner"))
        pinger.answer(true)
        #expect(await rebalancing.value == false)
        #expect(m.find()?.name == "owner")
    }

    /// A server the client was told to use while every ping fails keeps the manager online:
    /// the rebalance found none of the servers it pinged healthy, but it never pinged that one.
    @Test func aServerPreferredWhileEveryPingFailsKeepsTheManagerOnline() async {
        let (m, pinger, rebalancing, _) = await rebalanceWaitingOnAPing()
        m.prefer(server("owner"))
        pinger.answer(false)
        for _ in 0..<2 {
            _ = await pinger.nextPing()
            pinger.answer(false)
        }
        #expect(await rebalancing.value == false)
        #expect(m.find()?.name == "owner")
        #expect(!m.isOffline)
        // With nothing new meanwhile, a rebalance that finds no server does mark it offline.
        let again = Task { await m.rebalance() }
        for _ in 0..<4 {
            _ = await pinger.nextPing()
            pinger.answer(false)
        }
        #expect(await again.value == false)
        #expect(m.isOffline)
    }

    /// Added and removed servers are not order changes: the rebalance still publishes, merged.
    @Test func aServerAddedWhileRebalancingIsMergedIntoTheNewOrder() async {
        let (m, pinger, rebalancing, pinged) = await rebalanceWaitingOnAPing()
        m.add(server("s4"))
        pinger.answer(true)
        #expect(await rebalancing.value == true)
        #expect(m.find()?.name == pinged)
        #expect(Set(m.servers.map(\.name)) == ["s1", "s2", "s3", "s4"])
    }

    /// The client found s1 at one address; s1 then moved, and the failure at the old address
    /// says nothing about the new one.
    @Test func aFailureAtAnAddressTheServerHasLeftDoesNotRotateIt() throws {
        let m = manager()
        m.add(try ManagedServer(name: "s1", address: "10.0.0.1:8300"))
        m.add(server("s2"))
        let found = try #require(m.find())
        m.add(try ManagedServer(name: "s1", address: "10.0.0.2:8300"))
        m.notifyFailed(found)
        #expect(m.find()?.address == "10.0.0.2:8300")
        m.notifyFailed(try #require(m.find()))
        #expect(m.find()?.name == "s2")
    }

    /// A second `run()` would take the first one's place on the timer's wake-up, and the first
    /// would never wake again, not even when cancelled.
    @Test func aSecondRunReturnsAtOnceAndTheFirstStillStops() async throws {
        let clock = ManualClock()
        let pinger = FauxPinger()
        let m = manager(pinger, clock: clock)
        m.add(server("s1"))
        let first = Task { await m.run() }
        await clock.waitForSleepers(1)
        await m.run()
        try clock.advance(by: RebalanceDelay.minimum)
        await clock.waitForSleepers(1)
        #expect(pinger.pingCount == 1)
        first.cancel()
        await first.value
        #expect(clock.sleeperCount == 0)
    }
}

/// A pinger whose pings wait until the test answers them, or until the pinging task is
/// cancelled, which answers false, as `ManagerPinger` answers a call cut short.
final class GatedPinger: Pinger, Sendable {
    private struct State {
        var waiting: CheckedContinuation<Bool, Never>?
        var pings = 0
    }

    private let state = Mutex(State())
    private let started: AsyncStream<String>
    private let startedSink: AsyncStream<String>.Continuation

    init() {
        (started, startedSink) = AsyncStream.makeStream()
    }

    var pings: Int { state.withLock { $0.pings } }

    /// Waits until a ping is under way; returns the name of the server it pings.
    func nextPing() async -> String? {
        var iterator = started.makeAsyncIterator()
        return await iterator.next()
    }

    /// Ends the ping under way with `healthy`.
    func answer(_ healthy: Bool) {
        let waiting = state.withLock { state in
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume(returning: healthy)
    }

    func ping(_ server: ManagedServer) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                // The handler below takes the same lock, so it either finds this ping waiting or
                // this check sees the cancellation.
                let cancelled = state.withLock { state -> Bool in
                    state.pings += 1
                    if Task.isCancelled { return true }
                    state.waiting = continuation
                    return false
                }
                if cancelled { continuation.resume(returning: false) } else { startedSink.yield(server.name) }
            }
        } onCancel: {
            answer(false)
        }
    }
}
