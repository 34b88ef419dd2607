import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherLeadership
import BeaconScheduler
import Testing

/// Two managers, each with a dispatcher, share one in-memory coordination store and one manual
/// clock: one leads at a time, a clean leave hands over at once, and a leader whose lease lapses
/// is replaced — all in virtual time.
@Suite(.timeLimit(.minutes(1))) struct DispatcherLeadershipTests {
    static let ttl = Duration.seconds(3)

    /// What the clock holds while every manager waits: the store's lease sweeper, one lease
    /// refresher per manager, and the leading dispatcher's loop and wheel thread.
    static func parkedSleepers(managers: Int, leading dispatchers: Int) -> Int {
        1 + managers + 2 * dispatchers
    }

    @Test func oneLeadsAndACleanLeaveHandsOverAtOnce() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let a = try Manager("a", store: store, clock: clock)
        let b = try Manager("b", store: store, clock: clock)
        a.start()
        #expect(await a.next() == .joined)
        #expect(await a.next() == .chosen(["a"], leading: true))
        b.start()
        #expect(await b.next() == .joined)
        #expect(await b.next() == .chosen(["a"], leading: false))
        await clock.waitForSleepers(Self.parkedSleepers(managers: 2, leading: 1))
        #expect(a.dispatcherRuns && a.leadership.isLeading)
        #expect(!b.dispatcherRuns && !b.leadership.isLeading)

        // No time passes: the leaver stops its dispatcher, then revokes its lease.
        try await a.stop()
        #expect(!a.dispatcherRuns && !a.leadership.isLeading)
        #expect(await b.next() == .chosen(["b"], leading: true))
        await clock.waitForSleepers(Self.parkedSleepers(managers: 1, leading: 1))
        #expect(b.dispatcherRuns)
        try await b.stop()
        #expect(!b.dispatcherRuns)
        // Both left: their membership and election keys went with their revoked leases.
        #expect(try await store.read(prefix: "/dispatchers/exchange/").values.isEmpty)
        #expect(try await store.read(prefix: "/dispatchers/election/").values.isEmpty)
    }

    @Test func whenTheLeadersLeaseLapsesAnotherLeads() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let partition = Partition(store)
        // `alpha`: the first name is chosen whenever it is in the group, so "a" leads first and
        // takes the seat back when it returns.
        let a = try Manager("a", store: partition, clock: clock, strategy: AlphabeticalStrategy.name)
        let b = try Manager("b", store: store, clock: clock, strategy: AlphabeticalStrategy.name)
        a.start()
        #expect(await a.next() == .joined)
        #expect(await a.next() == .chosen(["a"], leading: true))
        b.start()
        #expect(await b.next() == .joined)
        #expect(await b.next() == .chosen(["a"], leading: false))
        let parked = Self.parkedSleepers(managers: 2, leading: 1)
        await clock.waitForSleepers(parked)

        // "a" can no longer write to the store: its refreshes fail, and its lease (granted at
        // 0 s, TTL 3 s) lapses at 3 s while "b" keeps refreshing its own.
        partition.cut()
        for _ in 0..<5 {
            try clock.advance(by: Self.ttl / 6)
            await clock.waitForSleepers(parked)
            #expect(a.dispatcherRuns && a.leadership.isLeading)
            #expect(!b.dispatcherRuns && !b.leadership.isLeading)
        }
        try clock.advance(by: Self.ttl / 6)
        #expect(await b.next() == .chosen(["b"], leading: true))
        // At 3 s "a" learns that its lease ended from two sides: its own refresher, whose
        // refreshes have failed for a whole TTL, and the store's watch (reads still reach it),
        // in either order. Either one is enough to stop its dispatcher, so a leader cut off from
        // the store entirely would step down at the same instant.
        let first = await a.next()
        #expect(first == .leaseLost || first == .chosen(["b"], leading: false))
        if first != .leaseLost { #expect(await a.next() == .leaseLost) }
        // "a" now retries for a new lease with back-off, in place of its lease refresher, and
        // "b" runs the dispatcher.
        await clock.waitForSleepers(parked)
        #expect(!a.dispatcherRuns && !a.leadership.isLeading)
        #expect(b.dispatcherRuns && b.leadership.isLeading)

        // Back in touch, "a" registers under a new lease and, first by name, leads again once
        // "b" has been told to follow.
        partition.heal()
        try clock.advance(by: Self.ttl / 6)
        #expect(await b.next() == .chosen(["a"], leading: false))
        var next = await a.next()
        if first == .leaseLost, next == .chosen(["b"], leading: false) { next = await a.next() }
        #expect(next == .chosen(["a"], leading: true))
        await clock.waitForSleepers(parked)
        #expect(a.dispatcherRuns && !b.dispatcherRuns)

        try await a.stop()
        try await b.stop()
    }
}

/// One manager: a dispatcher on the shared clock, its leadership running in a task, and the
/// events it reported, in order. Used by the test's task alone.
private final class Manager {
    typealias Event = DispatcherLeadership<ManualClock>.Event

    let leadership: DispatcherLeadership<ManualClock>
    private var events: AsyncStream<Event>.Iterator
    private var running: Task<Void, any Error>?

    init(_ name: String, store: any CoordinationStore, clock: ManualClock, strategy: String = RoundRobinStrategy.name)
        throws
    {
        let dispatcher = try Dispatcher(clock: clock, store: InMemoryDispatcherStore())
        var options = ScheduleOptions(strategy: strategy)
        options.sessionTTL = DispatcherLeadershipTests.ttl
        let (events, continuation) = AsyncStream<Event>.makeStream()
        self.events = events.makeAsyncIterator()
        leadership = DispatcherLeadership(
            dispatcher: dispatcher, store: store, group: "/dispatchers", name: name, options: options
        ) { continuation.yield($0) }
    }

    func start() {
        running = Task { [leadership] in try await leadership.run() }
    }

    /// The next event the manager reported.
    func next() async -> Event? {
        await events.next()
    }

    /// Cancels the leadership and waits until it has stopped the dispatcher and left the group.
    func stop() async throws {
        guard let task = running else { return }
        running = nil
        task.cancel()
        try await task.value
    }

    /// Whether the dispatcher is running: a stopped one refuses every call with `stopped`, a
    /// running one knows no such session.
    var dispatcherRuns: Bool {
        do {
            _ = try leadership.dispatcher.heartbeat(
                nodeID: try NodeID("probe"), session: try SessionID("00000000000000000000000000000001"))
            return true
        } catch {
            return error != .stopped
        }
    }
}
