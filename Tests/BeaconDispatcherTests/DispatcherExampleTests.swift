import BeaconCore
import BeaconDispatcher
import Testing

/// The example in docs/dispatcher.md ("Trying it"), verbatim inside the test body.
@Suite struct DispatcherExampleTests {
    @Test func documentedExample() async throws {
        let store = InMemoryDispatcherStore()
        let node = try NodeID("node-1")
        store.createNode(node)
        store.putTask(
            DispatchedTask(id: "web.1", nodeID: node, status: TaskStatus(state: .assigned), spec: Array("nginx".utf8)))

        // On a manual clock, as a test drives it; production code writes `Dispatcher(store: store)`.
        let clock = ManualClock()
        let dispatcher = try Dispatcher(clock: clock, store: store)
        let running = Task { try await dispatcher.run() }
        await dispatcher.waitUntilIdle()  // leading, and parked

        // Writes reach the store in batches, one every `statusBatchInterval`: the first carries the
        // start's UNKNOWN write, and `session` returns once the next has committed the node's READY.
        try clock.advance(by: dispatcher.configuration.statusBatchInterval)
        await dispatcher.waitUntilIdle()
        try clock.advance(by: dispatcher.configuration.statusBatchInterval)
        let session = try await dispatcher.session(nodeID: node, description: NodeDescription(hostname: "worker-1"))
        let period = try dispatcher.heartbeat(nodeID: node, session: session.id)  // beat again within `period`

        var applier = AssignmentApplier()
        var seen: [AssignedObject] = []
        var assignments = try dispatcher.assignments(nodeID: node, session: session.id).makeAsyncIterator()
        if let message = try await assignments.next() {  // COMPLETE first, then INCREMENTAL diffs
            try applier.apply(message)
            for key in applier.table.sortedKeys() {
                let object = try AssignedObject(decoding: applier.table[key]!.payload)
                print(period, object)
                seen.append(object)
            }
        }
        dispatcher.stop()
        try await running.value

        #expect(period >= .milliseconds(4_500) && period < .milliseconds(5_500))
        guard case .task(let task)? = seen.first else {
            Issue.record("expected the task, got \(seen)")
            return
        }
        #expect(task.id == "web.1" && task.spec == Array("nginx".utf8))
    }
}
