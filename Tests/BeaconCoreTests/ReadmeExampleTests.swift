import BeaconCore
import Testing

/// The README's example, verbatim inside the test body, so the documented code keeps compiling
/// and doing what the README says.
@Suite struct ReadmeExampleTests {
    @Test func readmeExample() throws {
        // 1. A bounded-load table: O(1) lookups, no member above its fair share.
        let runners = (0..<100).map { PlacementMember("runner-\($0)") }
        let table = try BoundedLoadTable(members: runners)
        let owner = try table.member(for: "user-42")  // same answer in every process

        // 2. Three distinct replicas, written into a buffer you own: no allocation.
        var replicas = [Int](repeating: 0, count: 3)
        try replicas.withUnsafeMutableBufferPointer { try table.replicas(for: "user-42", into: $0) }

        // 3. Share it between threads; readers never lock, writers publish whole new tables.
        let shared = SharedPlacer(table)
        var reader = shared.makeReader()  // one per thread or task
        try shared.add(PlacementMember("runner-100", weight: 2))
        let now = try reader.member(for: "user-42")  // sees the new table

        // 4. Hot keys: hold capacity per request, never above ⌈(1+ε)·average⌉ in flight.
        let balancer = try BoundedLoadBalancer(members: runners, epsilon: 0.25)
        let lease = try balancer.acquire(for: "hot-key")
        try balancer.release(lease)

        #expect(replicas[0] == (try table.memberIndex(for: "user-42")))
        #expect(Set(replicas).count == 3)
        #expect(now.name == owner.name || now.name == "runner-100")
        #expect(balancer.loads.allSatisfy { $0 == 0 })
    }

    @Test func readmeHeartbeatExample() throws {
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: .milliseconds(10), maximumTTL: .seconds(60)))
        try timer.start { expiry in
            for node in expiry.handles { print("\(node) missed its heartbeat") }
        }
        let policy = JitteredPeriodPolicy.swarmKitDefault  // 5 s ± 0.5 s, node down after 3 periods
        var jitter = SplitMix64()  // one per thread or task
        let first = policy.next(using: &jitter)
        let node = try timer.wheel.register(ttl: first.ttl)
        // On every heartbeat from that node (tell it to come back after `next.period`):
        let next = policy.next(using: &jitter)
        try timer.wheel.beat(node, ttl: next.ttl)
        // When the node leaves: after `.removed`, its expiry is never delivered.
        try timer.wheel.remove(node)
        timer.stop()

        #expect(next.ttl.duration == next.period * 3)
        #expect(!timer.wheel.isArmed(node))
        #expect(throws: HeartbeatError.staleHandle(node)) { try timer.wheel.beat(node, ttl: next.ttl) }
    }

    @Test func readmeAssignmentExample() throws {
        // Sender, one per node stream: record changes, flush when due (or when the timer fires).
        let clock = MonotonicClock()
        var batcher = AssignmentBatcher<BeaconInstant>()  // SwarmKit's 100 ms / 100 changes, 1 MiB messages
        let task = try AssignmentKey(.task, id: 42)  // your string ids, interned to integers
        try batcher.upsert(task, version: 1, payload: Array("image: nginx".utf8), at: clock.now)
        var wire = try batcher.flush().map(\.bytes)  // the COMPLETE set
        batcher.remove(task, at: clock.now)  // then arm a timer for batcher.flushDeadline
        wire += try batcher.flushIfDue(at: clock.now.advanced(by: .milliseconds(100))).map(\.bytes)

        // Receiver, on the node: apply in order; on an error, have the sender call requestComplete().
        var applier = AssignmentApplier()
        for bytes in wire { try applier.apply(bytes: bytes) }
        print(applier.table.count, applier.isSettled)  // 0 true

        #expect(wire.count == 2)
        #expect(applier.table.count == 0 && applier.isSettled)
    }
}
