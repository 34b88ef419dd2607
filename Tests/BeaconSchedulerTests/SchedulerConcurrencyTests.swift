import BeaconCore
import Testing

@testable import BeaconCoordination
@testable import BeaconScheduler

/// Participants joining, reading and leaving at once on the embedded store: what CI runs under
/// ThreadSanitizer. The clock is a manual one that never moves, so no lease can lapse however
/// slow the sanitizer makes the machine, and nothing here depends on timing.
@Suite(.timeLimit(.minutes(2))) struct SchedulerConcurrencyTests {
    @Test func participantsJoiningReadingAndLeavingAtOnceConverge() async throws {
        let clock = ManualClock()
        let scheduler = Scheduler(
            store: InMemoryCoordinationStore(clock: clock), clock: clock, random: SplitMix64(seed: 3))
        let joining = options("alpha", max: 20, ttl: .seconds(10))
        let names = (0..<10).map { "h\($0)" }
        let handles = try await withThrowingTaskGroup(of: ScheduleHandle.self) { group in
            for name in names {
                group.addTask { try await scheduler.schedule(path: "/concurrent", hostname: name, options: joining) }
            }
            var handles: [ScheduleHandle] = []
            for try await handle in group { handles.append(handle) }
            return handles
        }
        for handle in handles { try await handle.waitFor(names) }
        let leaving = handles.filter { ["h5", "h6", "h7", "h8", "h9"].contains($0.hostname) }
        let staying = handles.filter { !leaving.map(\.hostname).contains($0.hostname) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for handle in leaving { group.addTask { await handle.shutdown() } }
            for handle in staying {
                group.addTask {
                    var results = handle.results.makeAsyncIterator()
                    while let hosts = try await next(&results), hosts.count > 5 {}
                }
            }
            try await group.waitForAll()
        }
        for handle in staying { try await handle.waitFor(["h0", "h1", "h2", "h3", "h4"]) }
        for handle in staying { await handle.shutdown() }
        await scheduler.close()
    }
}
