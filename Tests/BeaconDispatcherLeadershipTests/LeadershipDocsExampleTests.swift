import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherLeadership
import BeaconScheduler
import Testing

/// The getting-started example of BeaconDispatcherLeadership's documentation catalog
/// (Sources/BeaconDispatcherLeadership/BeaconDispatcherLeadership.docc/GettingStarted.md),
/// verbatim inside the test body.
@Suite(.timeLimit(.minutes(1))) struct LeadershipDocsExampleTests {
    @Test func gettingStartedExample() async throws {
        let clock = ManualClock()  // production code leaves it out
        let store = InMemoryCoordinationStore(clock: clock)  // or an EtcdCoordinationStore all managers share
        let (events, observer) = AsyncStream<DispatcherLeadership<ManualClock>.Event>.makeStream()
        let leadership = DispatcherLeadership(
            dispatcher: try Dispatcher(clock: clock, store: InMemoryDispatcherStore()),
            store: store, group: "/beacon/dispatchers", name: "manager-1",
            observer: { observer.yield($0) })
        let running = Task { try await leadership.run() }  // or LifecycleService(leadership)
        for await event in events {
            print(event)  // joined, then chosen(["manager-1"], leading: true)
            if case .chosen(_, leading: true) = event { break }
        }
        running.cancel()  // stops the dispatcher, then leaves the group
        try await running.value

        #expect(!leadership.isLeading)
        // It left: its membership and election keys went with its revoked lease.
        #expect(try await store.read(prefix: "/beacon/dispatchers/exchange/").values.isEmpty)
        #expect(try await store.read(prefix: "/beacon/dispatchers/election/").values.isEmpty)
    }
}
