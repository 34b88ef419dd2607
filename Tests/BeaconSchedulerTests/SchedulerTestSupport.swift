@testable import BeaconScheduler
import Testing

/// A coordination store for one test, on either backend, and how to stop it.
struct StoreFixture: Sendable {
    let store: any CoordinationStore
    /// A session TTL short enough for expiry tests, and no shorter than the store allows.
    let ttl: Duration
    let stop: @Sendable () async -> Void
    /// The etcd server when the backend is etcd (for fault tests).
    let server: (any ControllableServer)?
}

/// A store server a fault test can pause, resume and restart.
protocol ControllableServer: Sendable {
    func pause() throws
    func resume() throws
    func restart() async throws
}

enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case memory
    #if Etcd
    case etcd
    #endif

    var testDescription: String { rawValue }

    func makeFixture() async throws -> StoreFixture {
        switch self {
        case .memory:
            StoreFixture(store: InMemoryCoordinationStore(), ttl: .seconds(5), stop: {}, server: nil)
        #if Etcd
        case .etcd:
            try await EtcdTestServer.fixture()
        #endif
        }
    }
}

/// Runs `body` with a fresh store on `backend` and a scheduler on it, and stops both however
/// `body` ends — an etcd server a failed test started must not outlive it.
func withScheduler(_ backend: Backend, _ body: (StoreFixture, Scheduler) async throws -> Void) async throws {
    let fixture = try await backend.makeFixture()
    let scheduler = Scheduler(store: fixture.store)
    do {
        try await body(fixture, scheduler)
    } catch {
        await scheduler.close()
        await fixture.stop()
        throw error
    }
    await scheduler.close()
    await fixture.stop()
}

/// Polls until `condition` holds; bounded so a broken build fails instead of hanging. Nothing
/// asserts how long it took.
func eventually(
    _ what: @autoclosure () -> String, within limit: Duration = .seconds(30),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what())")
    throw SchedulerError.cancelled
}

func options(_ strategy: String = "rr", max: Int = 1, ttl: Duration) -> ScheduleOptions {
    var options = ScheduleOptions(strategy: strategy)
    options.maxCount = max
    options.sessionTTL = ttl
    return options
}

/// The next host set of `results`, failing the test after `limit` instead of hanging. A lost
/// lease is skipped: a CI machine busy with other tests can starve the refresher past the TTL,
/// and the participant then reports the loss and registers again, as it should.
func next(_ results: inout ScheduleResults.AsyncIterator, within limit: Duration = .seconds(30)) async throws -> [String]? {
    let iterator = results
    return try await withThrowingTaskGroup(of: [String]?.self) { group in
        group.addTask {
            var copy = iterator
            while true {
                do {
                    return try await copy.next()
                } catch {
                    guard (error as? SchedulerError) == .leaseLost else { throw error }
                }
            }
        }
        group.addTask {
            try await Task.sleep(for: limit)
            Issue.record("no result within \(limit)")
            throw SchedulerError.cancelled
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension ScheduleHandle {
    func waitFor(_ hosts: [String]) async throws {
        try await eventually("\(hostname) to see \(hosts), has \(latest ?? [])") { latest == hosts }
    }
}

extension CoordinationStore {
    func value(_ key: String) async throws -> StoredValue? {
        try await read(prefix: key).values.first { $0.key == key }
    }
}
