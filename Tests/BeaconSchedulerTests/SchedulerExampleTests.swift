import BeaconScheduler
import Testing

/// The example at the top of docs/scheduler.md, as written there, stopped after its first set.
@Suite struct SchedulerExampleTests {
    @Test func documentedExample() async throws {
        let scheduler = Scheduler(store: InMemoryCoordinationStore())   // or EtcdCoordinationStore
        var options = ScheduleOptions(strategy: "rr")
        options.maxCount = 2
        let handle = try await scheduler.schedule(path: "/sched/web", hostname: "web-1", options: options)
        var printed: [[String]] = []
        for try await hosts in handle.results {      // ["web-1"], then each change
            printed.append(hosts)
            break
        }
        #expect(printed == [["web-1"]])
        await handle.shutdown()
        await scheduler.close()
    }
}
