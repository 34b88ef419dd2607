import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import BeaconDispatcherLeadership
import BeaconScheduler
import Testing

/// Leadership over records kept in the coordination store: the next leader starts from what the
/// last one wrote, and each leader's writes are fenced on the group's choice naming it.
@Suite(.timeLimit(.minutes(1))) struct LeadershipRecordsTests {
    typealias Event = DispatcherLeadership<ManualClock>.Event

    /// A manager leading over `records`, and the events it reports.
    struct Manager {
        let dispatcher: Dispatcher<ManualClock>
        let clock: ManualClock
        let records: CoordinatedDispatcherStore
        let events: AsyncStream<Event>
        let running: Task<Void, any Error>

        init(_ name: String, on coordination: InMemoryCoordinationStore, clock: ManualClock) async throws {
            var configuration = DispatcherConfiguration()
            configuration.heartbeatPeriod = .seconds(1)
            configuration.heartbeatJitter = .zero
            self.clock = clock
            // The records' own waits run on real time, off the shared clock, so that its sleepers
            // are the store's sweeper, the manager's lease refresher and the dispatcher's two.
            records = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/records/")
            dispatcher = try Dispatcher(configuration: configuration, clock: clock, store: records)
            let (events, continuation) = AsyncStream<Event>.makeStream()
            self.events = events
            var options = ScheduleOptions(strategy: AlphabeticalStrategy.name)
            options.sessionTTL = .seconds(3)
            let leadership = DispatcherLeadership(
                dispatcher: dispatcher, store: coordination, records: records, group: "/dispatchers", name: name,
                options: options
            ) { continuation.yield($0) }
            running = Task { try await leadership.run() }
        }

        /// Waits until the group has chosen this manager (a choice still naming a manager that
        /// left comes first) and its dispatcher has started: fenced, read up to date, and parked.
        func leads() async -> Bool {
            for await event in events {
                if case .chosen(_, leading: true) = event {
                    await idle()
                    return true
                }
            }
            return false
        }

        /// Waits until the leading dispatcher is parked beside the store's sweeper and this
        /// manager's refresher. Counted without them, the wait could end before the dispatcher
        /// has flushed what the last advance made due.
        func idle() async {
            await dispatcher.waitUntilIdle(besides: 2)
        }

        /// Leaves the group cleanly and closes the records.
        func leave() async throws {
            running.cancel()
            try await running.value
            await records.close()
        }
    }

    @Test func theNextLeaderStartsFromTheLastOnesWritesAndEachWritesOnlyWhileChosen() async throws {
        let clock = ManualClock()
        let coordination = InMemoryCoordinationStore(clock: clock)
        let node = try NodeID("n1")
        let first = try await Manager("a", on: coordination, clock: clock)
        try await first.records.createNode(node)
        #expect(await first.leads())
        #expect(first.records.fenceConditions == [.value(key: "/dispatchers/scheduled", equals: "a")])

        // The node registers with the first leader: its READY write goes out with the batch one
        // interval after the last.
        let interval = first.dispatcher.configuration.statusBatchInterval
        for _ in 0..<2 {
            try clock.advance(by: interval)
            await first.idle()
        }
        _ = try await first.dispatcher.session(nodeID: node, description: NodeDescription(hostname: "n1"))
        #expect(first.records.node(node)?.status.state == .ready)
        try await first.leave()

        let second = try await Manager("b", on: coordination, clock: clock)
        #expect(second.records.node(node)?.status.state == .ready)
        #expect(await second.leads())
        #expect(second.dispatcher.state(of: node) == .unknown)
        #expect(second.records.fenceConditions == [.value(key: "/dispatchers/scheduled", equals: "b")])
        try await second.leave()
    }
}
