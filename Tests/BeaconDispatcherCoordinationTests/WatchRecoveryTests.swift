import BeaconCoordination
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherCoordination
import Testing

@Suite(.timeLimit(.minutes(1))) struct WatchRecoveryTests {
    /// The watch breaks, as a reset connection or a compaction ends it, while another manager
    /// writes more than the store's history keeps (so the old watch could not be resumed): the
    /// store backs off on its clock, reads again, and its watchers see each change exactly once
    /// — updates, a deletion — and then the next change, with nothing repeated in between.
    @Test(arguments: [CoordinationError.failure("connection reset"), .compacted(compactRevision: 3)])
    func aBrokenWatchIsRestoredWithoutLosingOrRepeatingAnEvent(_ breakage: CoordinationError) async throws {
        let clock = ManualClock()
        let observed = ObservedStore(InMemoryCoordinationStore(historyLimit: 4))
        let follower = try await CoordinatedDispatcherStore.open(on: observed, prefix: "/d/", clock: clock)
        let other = try await CoordinatedDispatcherStore.open(on: observed.base, prefix: "/d/")
        let events = EventLog(follower)
        let gone = try await other.putTask(DispatchedTask(id: "gone", nodeID: nil))
        let kept = try await other.putTask(DispatchedTask(id: "kept", nodeID: nil))
        #expect(
            await events.next { if case .taskUpdated(let task) = $0 { task.id == "kept" } else { false } }
                == .taskUpdated(kept))

        observed.breakWatches(breakage)
        // While the follower is cut off: ten new tasks (past the four changes of history), one
        // deletion, one task rewritten.
        var written: [DispatchedTask] = []
        for index in 0..<10 { written.append(try await other.putTask(DispatchedTask(id: "new\(index)", nodeID: nil))) }
        #expect(try await other.deleteTask("gone"))
        var rewritten = kept
        rewritten.spec = [1]
        written.append(try await other.putTask(rewritten))
        #expect(follower.task("new0") == nil)

        await clock.waitForSleepers(1)
        try clock.advance(to: try #require(clock.nextDeadline))
        let expected = Set(written.map(StoreEvent.taskUpdated) + [.taskDeleted(gone)])
        var seen: [StoreEvent] = []
        while seen.count < expected.count, let event = await events.next(where: { _ in true }) {
            seen.append(event)
        }
        #expect(Set(seen) == expected)
        // Nothing else follows: the next change is the next event.
        let marker = try await other.putTask(DispatchedTask(id: "marker", nodeID: nil))
        #expect(await events.next(where: { _ in true }) == .taskUpdated(marker))
        #expect(follower.watchRestarts == 1)
        #expect(follower.task("kept")?.spec == [1])
        #expect(follower.task("gone") == nil)
        await follower.close()
        await other.close()
    }

    /// A value under the layout that is not a record of its kind is reported, read as absent,
    /// and forgotten once something valid replaces it.
    @Test func anUnreadableValueIsReportedAndReadAsAbsent() async throws {
        let coordination = InMemoryCoordinationStore()
        let store = try await CoordinatedDispatcherStore.open(on: coordination, prefix: "/d/")
        try await store.createNode(nodeID("n1"))
        _ = try await coordination.transaction(
            if: [],
            then: [
                .put(key: "/d/nodes/n1", value: "not json", lease: nil), .put(key: "/d/other", value: "x", lease: nil),
            ],
            else: [])
        try await store.synchronize()
        #expect(store.node(nodeID("n1")) == nil)
        #expect(store.unreadableKeys == ["/d/nodes/n1"])
        try await store.createNode(nodeID("n2"))
        _ = try await coordination.transaction(
            if: [], then: [.delete(key: "/d/nodes/n1")], else: [])
        try await store.synchronize()
        #expect(store.unreadableKeys.isEmpty)
        #expect(store.allNodes().map(\.id) == [nodeID("n2")])
        await store.close()
    }

    /// The watch stalls without failing (a half-open connection): a write does not wait for it
    /// forever, but reads the prefix after the store's patience, returns, and replaces the
    /// watch, through which the next write is seen at once.
    @Test func aWriteDoesNotWaitForAStalledWatchForever() async throws {
        let clock = ManualClock()
        let observed = ObservedStore(stalledWatches: 1)
        let store = try await CoordinatedDispatcherStore.open(on: observed, prefix: "/d/", clock: clock)
        let writing = Task { try await store.putTask(DispatchedTask(id: "t1", nodeID: nil)) }
        await clock.waitForSleepers(1)
        #expect(store.task("t1") == nil)
        try clock.advance(by: CoordinatedDispatcherStore.watchPatience)
        let written = try await writing.value
        #expect(store.task("t1") == written)
        #expect(store.watchRestarts == 1)
        // No clock moves: the new watch brings this write.
        let next = try await store.putTask(DispatchedTask(id: "t2", nodeID: nil))
        #expect(store.task("t2") == next)
        await store.close()
    }
}
