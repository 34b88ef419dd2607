import BeaconCore
import BeaconDispatcher
import BeaconPrimitives
import Foundation
import Synchronization
import Testing

/// The real-time smoke test of the dispatcher: its own threads on the system clock, where only
/// real time shows that heartbeats on many threads race cleanly with the wheel's thread and the
/// loop (CI runs this suite under ThreadSanitizer). Everything else about the shell is tested in
/// virtual time (``DispatcherShellTests``). Waits here poll for something that must happen;
/// their bound only turns a broken build into a failure instead of a hang, and nothing asserts
/// that something did not happen.
@Suite struct DispatcherServiceTests {
    private func fastConfiguration() -> DispatcherConfiguration {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatPeriod = .milliseconds(50)
        configuration.heartbeatJitter = .milliseconds(10)
        // A deadline of 1 s: wide enough that a live node beating every 25 ms from a thread of
        // its own never misses it on a loaded CI machine under ThreadSanitizer.
        configuration.graceMultiplier = 20
        configuration.rateLimitPeriod = .zero
        configuration.statusBatchInterval = .milliseconds(20)
        return configuration
    }

    /// Registers once the dispatcher's `run` has started leading.
    private func register(_ dispatcher: Dispatcher<MonotonicClock>, _ node: NodeID) async throws -> NodeSession {
        for _ in 0..<500 {
            do {
                return try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: node.rawValue))
            } catch .stopped {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        throw DispatcherError.stopped
    }

    /// Polls until `condition` holds. Its bound is wall time, not a count of polls: beside the
    /// parallel suite on two cores, CPU-bound tests can hold the cooperative pool for tens of
    /// seconds (a CI run saw 1 000 polls spread over more than a minute), and the bound is only
    /// there to turn a broken build into a failure instead of a hang.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let giveUp = ContinuousClock.now.advanced(by: .seconds(180))
        while !condition(), ContinuousClock.now < giveUp {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(condition())
    }

    @Test func liveNodesStayReadySilentOnesGoDownAndStopEndsEverything() async throws {
        let store = InMemoryDispatcherStore()
        let live = nodeID("live")
        let silent = nodeID("silent")
        store.createNodes([live, silent])
        store.putTask(DispatchedTask(id: "t", nodeID: live, status: TaskStatus(state: .assigned)))
        let dispatcher = try Dispatcher(configuration: fastConfiguration(), store: store)
        let running = Task { try await dispatcher.run() }

        let liveSession = try await register(dispatcher, live)
        let beater = Beater(dispatcher: dispatcher, node: live, session: liveSession.id)
        let silentSession = try await register(dispatcher, silent)
        #expect(store.node(live)?.status.state == .ready)
        var assignments = try dispatcher.assignments(nodeID: live, session: liveSession.id).makeAsyncIterator()
        let complete = try #require(try await assignments.next())
        #expect(complete.kind == .complete && complete.changeCount == 1)
        try await waitUntil { store.node(silent)?.status.state == .down }
        #expect(store.node(silent)?.status.message == "heartbeat failure")
        #expect(store.node(live)?.status.state == .ready)
        #expect(await endOfStream(silentSession.messages) == .nodeNotRegistered)
        try dispatcher.updateTaskStatus(
            nodeID: live, session: liveSession.id,
            updates: [TaskStatusUpdate(taskID: "t", status: TaskStatus(state: .running))])
        try await waitUntil { store.task("t")?.status.state == .running }

        #expect(await beater.stop() == nil)
        dispatcher.stop()
        try await running.value
        #expect(throws: DispatcherError.stopped) { _ = try dispatcher.heartbeat(nodeID: live, session: liveSession.id) }
        var last: SessionMessage?
        for try await message in liveSession { last = message }
        #expect(last?.disconnect == true)
        #expect(await endOfStream(&assignments) == .stopped)
    }

    /// Reads to the end; returns the error the stream ended with (nil for a normal end).
    private func endOfStream<Element>(_ stream: DispatcherStream<Element>) async -> DispatcherError? {
        var iterator = stream.makeAsyncIterator()
        return await endOfStream(&iterator)
    }

    private func endOfStream<Element>(_ iterator: inout DispatcherStream<Element>.AsyncIterator) async
        -> DispatcherError?
    {
        do {
            while try await iterator.next() != nil {}
            return nil
        } catch {
            return error
        }
    }
}

/// Beats for one node every half period on a thread of its own: the property tests running
/// beside this suite can hold every thread of the cooperative pool for seconds, which would
/// starve a beating task into a false DOWN.
private final class Beater: Sendable {
    private let stopping = Atomic(false)
    /// The error a beat failed with (nil if none did), once the thread has ended.
    private let ended = Latch<DispatcherError?>()

    init(dispatcher: Dispatcher<MonotonicClock>, node: NodeID, session: SessionID) {
        Thread.detachNewThread { [self] in
            var failure: DispatcherError?
            while !stopping.load(ordering: .relaxed) {
                do throws(DispatcherError) {
                    let period = try dispatcher.heartbeat(nodeID: node, session: session)
                    Thread.sleep(forTimeInterval: Double(period / .milliseconds(1)) / 2_000)
                } catch {
                    failure = error
                    break
                }
            }
            _ = ended.settle(failure)
        }
    }

    /// Stops beating and returns the error a beat failed with, if one did.
    func stop() async -> DispatcherError? {
        stopping.store(true, ordering: .relaxed)
        return await ended.wait()
    }
}
