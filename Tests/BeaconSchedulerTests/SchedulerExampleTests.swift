import BeaconCoordination
import BeaconScheduler
import Testing

/// The example at the top of docs/scheduler.md, as written there, stopped after its first set.
@Suite struct SchedulerExampleTests {
    @Test func documentedExample() async throws {
        let scheduler = Scheduler(store: InMemoryCoordinationStore())  // or EtcdCoordinationStore
        var options = ScheduleOptions(strategy: "rr")
        options.maxCount = 2
        let handle = try await scheduler.schedule(path: "/sched/web", hostname: "web-1", options: options)
        var printed: [[String]] = []
        var results = handle.results.makeAsyncIterator()
        while true {
            do {
                guard let hosts = try await results.next() else { break }  // nil after shutdown()
                printed.append(hosts)  // ["web-1"], then each change
                await handle.shutdown()
            } catch {
                _ = error  // the participant carries on
            }
        }
        #expect(printed == [["web-1"]])
        await scheduler.close()
    }
}
