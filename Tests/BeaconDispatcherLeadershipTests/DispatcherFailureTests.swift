import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherLeadership
import BeaconScheduler
import Testing

/// A chosen manager whose dispatcher cannot lead does not sit on the seat: it reports the
/// failure, steps down, leaves the group so another manager is chosen, and its run throws.
@Suite(.timeLimit(.minutes(1))) struct DispatcherFailureTests {
    typealias Event = DispatcherLeadership<ManualClock>.Event

    /// A leadership whose events go to a stream.
    static func leadership(
        _ name: String, store: any CoordinationStore, clock: ManualClock
    ) throws -> (DispatcherLeadership<ManualClock>, AsyncStream<Event>) {
        let dispatcher = try Dispatcher(clock: clock, store: InMemoryDispatcherStore())
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let leadership = DispatcherLeadership(dispatcher: dispatcher, store: store, group: "/dispatchers", name: name) {
            continuation.yield($0)
        }
        return (leadership, events)
    }

    @Test func aDispatcherThatCannotStartGivesUpTheSeat() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        // Something else already runs the dispatcher: its start throws.
        let (a, aEvents) = try Self.leadership("a", store: store, clock: clock)
        let elsewhere = Task { try await a.dispatcher.run() }
        while a.dispatcher.loopPasses == 0 { await Task.yield() }
        var events = aEvents.makeAsyncIterator()
        let running = Task { try await a.run() }
        #expect(await events.next() == .joined)
        #expect(await events.next() == .chosen(["a"], leading: true))
        #expect(await events.next() == .dispatcherFailed(.alreadyRunning))
        await #expect(throws: DispatcherError.alreadyRunning) { try await running.value }
        a.dispatcher.stop()
        try await elsewhere.value
        #expect(!a.isLeading)
        // It left the group: its membership and election keys went with its revoked lease.
        #expect(try await store.read(prefix: "/dispatchers/exchange/").values.isEmpty)
        #expect(try await store.read(prefix: "/dispatchers/election/").values.isEmpty)

        // So the next manager is chosen and leads.
        let (b, bEvents) = try Self.leadership("b", store: store, clock: clock)
        var next = bEvents.makeAsyncIterator()
        let following = Task { try await b.run() }
        #expect(await next.next() == .joined)
        // The group may first report the choice it last published, before it chooses again.
        var chosen = await next.next()
        if chosen == .chosen(["a"], leading: false) { chosen = await next.next() }
        #expect(chosen == .chosen(["b"], leading: true))
        #expect(b.isLeading)
        following.cancel()
        try await following.value
        #expect(!b.isLeading)
    }

    @Test func aDispatcherStoppedBehindTheManagersBackEndsItsLeadership() async throws {
        let clock = ManualClock()
        let store = InMemoryCoordinationStore(clock: clock)
        let (a, aEvents) = try Self.leadership("a", store: store, clock: clock)
        var events = aEvents.makeAsyncIterator()
        let running = Task { try await a.run() }
        #expect(await events.next() == .joined)
        #expect(await events.next() == .chosen(["a"], leading: true))
        // Leading, beside the store's sweeper and the lease refresher. Counted without them, the
        // wait could end before the dispatcher runs, and a stop before the run is a no-op.
        await a.dispatcher.waitUntilIdle(besides: 2)
        a.dispatcher.stop()
        #expect(await events.next() == .dispatcherFailed(.stopped))
        await #expect(throws: DispatcherError.stopped) { try await running.value }
        #expect(!a.isLeading)
    }
}
