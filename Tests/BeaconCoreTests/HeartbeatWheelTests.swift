import Testing

@testable import BeaconCore

/// Model tests of the wheel in virtual time: every test drives a `ManualClock`, so none sleeps
/// and none depends on the machine's speed.
@Suite struct HeartbeatWheelTests {
    let clock = ManualClock(start: BeaconInstant(nanoseconds: 5_000_000_000))

    func wheel(
        slot: Duration = .milliseconds(1), maximumTTL: Duration = .seconds(10), capacity: Int = 1024,
        stallThreshold: Duration? = nil
    ) throws -> HeartbeatWheel<ManualClock> {
        try HeartbeatWheel(
            configuration: .init(
                slotWidth: slot, maximumTTL: maximumTTL, capacity: capacity, stallThreshold: stallThreshold),
            clock: clock)
    }

    /// Moves the clock by `step` and advances the wheel, returning what expired.
    func run(_ wheel: HeartbeatWheel<ManualClock>, by step: Duration) throws -> [HeartbeatHandle] {
        try clock.advance(by: step)
        var expired: [HeartbeatHandle] = []
        try wheel.advance(to: clock.now) { expired += $0.handles }
        return expired
    }

    @Test func expiresAtItsSlotNeverBefore() throws {
        let wheel = try wheel()
        let node = try wheel.register(ttl: HeartbeatTTL(.milliseconds(100)))
        #expect(try run(wheel, by: .microseconds(99_999)).isEmpty)
        // The deadline is reached but its slot (100–101 ms) has not ended; the wheel may wait for it.
        #expect(try run(wheel, by: .microseconds(1)).isEmpty)
        let expired = try run(wheel, by: .milliseconds(1))
        #expect(expired == [node])
        #expect(!wheel.isArmed(node))
        #expect(throws: HeartbeatError.expired(node)) { try wheel.beat(node, ttl: HeartbeatTTL(.seconds(1))) }
    }

    @Test func beatsPushTheDeadlineAndNeverPullItBack() throws {
        let wheel = try wheel()
        let node = try wheel.register(ttl: HeartbeatTTL(.milliseconds(100)))
        for _ in 0..<20 {
            #expect(try run(wheel, by: .milliseconds(50)).isEmpty)
            try wheel.beat(node, ttl: HeartbeatTTL(.milliseconds(100)))
        }
        // A shorter TTL leaves the later deadline in place: now + 100 ms still holds.
        try wheel.beat(node, ttl: HeartbeatTTL(.milliseconds(10)))
        #expect(try run(wheel, by: .milliseconds(50)).isEmpty)
        #expect(try run(wheel, by: .milliseconds(51)) == [node])
        #expect(wheel.statistics.refiled + wheel.statistics.refiledAhead >= 1)
    }

    /// Nodes that keep beating leave behind, in nearly every slot, a filing that has moved on. An
    /// owner woken for each would wake once a slot; the look-ahead files them again in advance,
    /// so the wheel asks to be woken at the end of its look-ahead or where a node may really
    /// expire, and expiry stays on time.
    @Test func nodesThatKeepBeatingDoNotWakeTheOwnerEverySlot() throws {
        let wheel = try wheel()
        // One node a slot: deadlines 5.200 to 5.399 s.
        let nodes = try (0..<200).map { try wheel.register(ttl: HeartbeatTTL(.milliseconds(200 + $0))) }
        _ = try wheel.advance(to: clock.now) { _ in }
        // At 5.100 s every node beats: its deadline moves to 5.400 s.
        try clock.advance(to: BeaconInstant(nanoseconds: 5_100_000_000))
        for node in nodes { try wheel.beat(node, ttl: HeartbeatTTL(.milliseconds(300))) }
        // An owner that wakes where the wheel asks. Without the look-ahead it would wake in each of
        // the 200 slots from 5.200 s; with it, at the end of each look-ahead span until the nodes'
        // new slot is the next one occupied.
        var wakes = 0
        var due = try wheel.advance(to: clock.now) { _ in Issue.record("nothing is due yet") }
        while let wake = due, wake < BeaconInstant(nanoseconds: 5_400_000_000) {
            wakes += 1
            try clock.advance(to: wake)
            due = try wheel.advance(to: clock.now) { _ in Issue.record("nothing is due yet") }
        }
        #expect(wakes <= 3)
        #expect(wheel.statistics.refiled + wheel.statistics.refiledAhead == nodes.count)
        #expect(due == BeaconInstant(nanoseconds: 5_401_000_000))
        try clock.advance(to: BeaconInstant(nanoseconds: 5_399_999_000))
        #expect(try wheel.advance(to: clock.now) { _ in Issue.record("expired early") } == due)
        try clock.advance(to: due!)
        var expired: [HeartbeatHandle] = []
        try wheel.advance(to: clock.now) { expired += $0.handles }
        #expect(Set(expired) == Set(nodes))
    }

    /// The look-ahead re-files at most its budget per advance, so an advance stays short; the
    /// instant it returns is then earlier than needed, never later.
    @Test func theLookAheadStopsAtItsBudget() throws {
        let count = HeartbeatWheel<ManualClock>.lookAheadBudget * 2 + 10
        let wheel = try wheel(capacity: count)
        let ttl = try HeartbeatTTL(.seconds(1))
        var nodes: [HeartbeatHandle] = []
        // Twenty nodes a millisecond from 5.000 s: deadlines 6.000 to 6.102 s.
        for index in 0..<count {
            nodes.append(try wheel.register(ttl: ttl))
            if index % 20 == 19 { _ = try run(wheel, by: .milliseconds(1)) }
        }
        try clock.advance(to: BeaconInstant(nanoseconds: 5_990_000_000))
        for node in nodes { try wheel.beat(node, ttl: ttl) }
        var due = try wheel.advance(to: clock.now) { _ in }
        #expect(wheel.statistics.refiledAhead >= HeartbeatWheel<ManualClock>.lookAheadBudget)
        #expect(wheel.statistics.refiledAhead < count)
        #expect(due.map { $0 < BeaconInstant(nanoseconds: 6_200_000_000) } == true)
        // Woken where it asked, it carries on until every filing is where its node may expire.
        while let wake = due, wake < BeaconInstant(nanoseconds: 6_900_000_000) {
            try clock.advance(to: wake)
            due = try wheel.advance(to: clock.now) { _ in Issue.record("nothing is due yet") }
        }
        #expect(due == BeaconInstant(nanoseconds: 6_991_000_000))
        try clock.advance(to: BeaconInstant(nanoseconds: 6_991_000_000))
        var expired: [HeartbeatHandle] = []
        try wheel.advance(to: clock.now) { expired += $0.handles }
        #expect(Set(expired) == Set(nodes))
    }

    @Test func removalFencesExpiryAndRecyclesTheRecord() throws {
        let wheel = try wheel(capacity: 1)
        let ttl = try HeartbeatTTL(.milliseconds(10))
        let first = try wheel.register(ttl: ttl)
        #expect(try wheel.remove(first) == .removed)
        #expect(throws: HeartbeatError.staleHandle(first)) { try wheel.remove(first) }
        #expect(throws: HeartbeatError.staleHandle(first)) { try wheel.beat(first, ttl: ttl) }
        // The record is recycled when the wheel passes the removed node's slot, not before.
        #expect(throws: HeartbeatError.capacityExhausted(capacity: 1, awaitingRecycle: 1)) {
            try wheel.register(ttl: ttl)
        }
        #expect(try run(wheel, by: .milliseconds(20)).isEmpty)
        let second = try wheel.register(ttl: ttl)
        #expect(second.index == first.index && second.generation != first.generation)
        // The old handle cannot touch the new occupant.
        #expect(throws: HeartbeatError.staleHandle(first)) { try wheel.beat(first, ttl: HeartbeatTTL(.seconds(5))) }
        #expect(try run(wheel, by: .milliseconds(20)) == [second])
        #expect(try wheel.remove(second) == .alreadyExpired)
    }

    @Test func expiredRecordsAreReusedImmediately() throws {
        let wheel = try wheel(capacity: 2)
        let ttl = try HeartbeatTTL(.milliseconds(5))
        let a = try wheel.register(ttl: ttl)
        let b = try wheel.register(ttl: ttl)
        #expect(try run(wheel, by: .milliseconds(10)).count == 2)
        let c = try wheel.register(ttl: ttl)
        let reused = try #require([a, b].first { $0.index == c.index })
        let untouched = reused == a ? b : a
        // The reused record's old handle is stale; the other still reports its expiry.
        #expect(throws: HeartbeatError.staleHandle(reused)) { try wheel.remove(reused) }
        #expect(try wheel.remove(untouched) == .alreadyExpired)
    }

    /// A timer that refreshes its cached clock plans to wake within a slot, however far the next
    /// occupied slot is: beats in a pause use that stale reading, so the pause counts from the
    /// planned wake, not from the next slot.
    @Test func aPauseCountsFromTheWakeTheOwnerPlanned() throws {
        let wheel = try wheel(stallThreshold: .seconds(1))
        let node = try wheel.register(ttl: HeartbeatTTL(.seconds(1)))
        #expect(try wheel.advance(to: clock.now) { _ in } == clock.now.advanced(by: .milliseconds(1_001)))
        _ = wheel.prepareToSleep(until: clock.now.advanced(by: .milliseconds(1)))
        // Paused 1.2 s: 0.2 s past the node's slot, 1.199 s past the planned wake.
        try clock.advance(by: .milliseconds(1_200))
        try wheel.advance(to: clock.now) { _ in Issue.record("the pause's grace was not applied") }
        #expect(wheel.statistics.stalls == 1)
        #expect(wheel.isArmed(node))
    }

    /// A wheel left empty for longer than its span is not late for the first node filed after:
    /// its owner slept with nothing due. (The idle time, less the span, once counted as a stall,
    /// and the node outlived its deadline by that much.)
    @Test func aWheelIdleForLongerThanItsSpanIsNotLateForItsNextNode() throws {
        let wheel = try wheel(stallThreshold: .seconds(1))
        try wheel.advance(to: clock.now) { _ in }
        try clock.advance(by: .seconds(60))
        let node = try wheel.register(ttl: HeartbeatTTL(.seconds(1)))
        try wheel.advance(to: clock.now) { _ in Issue.record("nothing is due yet") }
        #expect(try run(wheel, by: .milliseconds(1_002)) == [node])
        #expect(wheel.statistics.stalls == 0)
    }

    @Test func stallGuardExtendsDeadlinesThatPassedDuringAStall() throws {
        let guarded = try wheel(stallThreshold: .milliseconds(500))
        let unguarded = try HeartbeatWheel(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(10), stallThreshold: nil),
            clock: clock)
        let ttl = try HeartbeatTTL(.seconds(1))
        // Sentinels due at 100 ms: the owner should have woken then, so the stall starts at 101 ms.
        let sentinel = try guarded.register(ttl: HeartbeatTTL(.milliseconds(100)))
        _ = try unguarded.register(ttl: HeartbeatTTL(.milliseconds(100)))
        let guardedNodes = try (0..<100).map { _ in try guarded.register(ttl: ttl) }
        _ = try (0..<100).map { _ in try unguarded.register(ttl: ttl) }
        try clock.advance(by: .seconds(3))
        var guardedExpired: [HeartbeatHandle] = []
        var unguardedExpired: [HeartbeatHandle] = []
        try guarded.advance(to: clock.now) { guardedExpired += $0.handles }
        try unguarded.advance(to: clock.now) { unguardedExpired += $0.handles }
        // Without the guard every node is declared dead together; with it, only the sentinel,
        // whose deadline passed before the stall began.
        #expect(unguardedExpired.count == 101)
        #expect(guardedExpired == [sentinel])
        #expect(guarded.statistics.stalls == 1)
        // Nodes that beat again after the stall survive; the others expire once the stall's length
        // (2.899 s) has passed after their deadline (1 s).
        guardedExpired = []
        for node in guardedNodes.prefix(50) { try guarded.beat(node, ttl: ttl) }
        try clock.advance(by: .milliseconds(850))
        try guarded.advance(to: clock.now) { guardedExpired += $0.handles }
        #expect(guardedExpired.isEmpty)
        try clock.advance(by: .milliseconds(60))
        try guarded.advance(to: clock.now) { guardedExpired += $0.handles }
        #expect(Set(guardedExpired) == Set(guardedNodes.suffix(50)))
    }

    @Test func aWriteThroughAStaleHandleIsRepairedNotTrusted() throws {
        let wheel = try wheel(capacity: 1, stallThreshold: nil)
        let ttl = try HeartbeatTTL(.milliseconds(10))
        let old = try wheel.register(ttl: ttl)
        try wheel.remove(old)
        #expect(try run(wheel, by: .milliseconds(20)).isEmpty)
        let current = try wheel.register(ttl: ttl)
        #expect(current.index == old.index)
        // Simulate the race: a beat through `old` checked the state before the reuse and stores now.
        let stale = HeartbeatRecord.deadlineWord(generation: old.generation, deadline: 1)
        wheel.records[Int(old.index)].deadline.store(stale, ordering: .relaxed)
        // The tag gives the write away: the wheel waits one maximum TTL instead of expiring at 1 µs.
        #expect(try run(wheel, by: .milliseconds(20)).isEmpty)
        #expect(wheel.statistics.repairedDeadlines == 1)
        #expect(try run(wheel, by: .milliseconds(9_999)).isEmpty)
        #expect(try run(wheel, by: .milliseconds(2)) == [current])
    }

    @Test func deadlinesBeyondTheHorizonAreParkedAndRechecked() throws {
        // A stall's grace can push a deadline past the horizon (64 slots of 1 ms here).
        let wheel = try wheel(maximumTTL: .milliseconds(50), stallThreshold: .milliseconds(5))
        let sentinel = try wheel.register(ttl: HeartbeatTTL(.milliseconds(1)))
        let node = try wheel.register(ttl: HeartbeatTTL(.milliseconds(50)))
        // Stall from 2 ms to 1000 ms: the node's deadline (50 ms) now counts as 1048 ms.
        #expect(try run(wheel, by: .milliseconds(1000)) == [sentinel])
        #expect(wheel.statistics.stalls == 1)
        #expect(try run(wheel, by: .milliseconds(47)).isEmpty)
        #expect(try run(wheel, by: .milliseconds(2)) == [node])
    }

    @Test func everyEntryPointRefusesBadInput() throws {
        #expect(throws: HeartbeatError.self) {
            try HeartbeatWheel(configuration: .init(slotWidth: .microseconds(10)), clock: clock)
        }
        #expect(throws: HeartbeatError.self) { try HeartbeatWheel(configuration: .init(capacity: 0), clock: clock) }
        #expect(throws: HeartbeatError.self) {
            try HeartbeatWheel(configuration: .init(maximumTTL: .zero), clock: clock)
        }
        #expect(throws: HeartbeatError.self) {
            try HeartbeatWheel(
                configuration: .init(slotWidth: .microseconds(100), maximumTTL: .seconds(3600)), clock: clock)
        }
        #expect(throws: HeartbeatError.self) {
            try HeartbeatWheel(configuration: .init(stallThreshold: .zero), clock: clock)
        }
        #expect(throws: HeartbeatError.invalidTTL(.zero)) { try HeartbeatTTL(.zero) }
        #expect(throws: HeartbeatError.self) { try HeartbeatTTL(.seconds(-1)) }
        #expect(throws: HeartbeatError.self) { try HeartbeatTTL(.seconds(86_400)) }
        let wheel = try wheel(maximumTTL: .seconds(1))
        #expect(throws: HeartbeatError.self) { try wheel.register(ttl: HeartbeatTTL(.seconds(2))) }
        let node = try wheel.register(ttl: HeartbeatTTL(.seconds(1)))
        #expect(throws: HeartbeatError.self) { try wheel.beat(node, ttl: HeartbeatTTL(.seconds(2))) }
        let foreign = HeartbeatHandle(index: 99, generation: 1)
        #expect(throws: HeartbeatError.unknownHandle(foreign)) {
            try wheel.beat(foreign, ttl: HeartbeatTTL(.seconds(1)))
        }
        #expect(throws: HeartbeatError.unknownHandle(foreign)) { try wheel.remove(foreign) }
        #expect(throws: HeartbeatError.self) { try clock.advance(by: .seconds(-1)) }
        try clock.advance(by: .seconds(2))
        #expect(throws: HeartbeatError.clockWentBackwards(by: .seconds(1))) {
            try wheel.advance(to: clock.now) { _ in }
            try wheel.advance(to: clock.now.advanced(by: .seconds(-1))) { _ in }
        }
        for error in [HeartbeatError.concurrentAdvance, .clockRangeExhausted, .staleHandle(node)] {
            #expect(!error.description.isEmpty)
        }
    }

    @Test func advancingFromInsideADeliveryIsRefused() throws {
        let wheel = try wheel()
        _ = try wheel.register(ttl: HeartbeatTTL(.milliseconds(1)))
        try clock.advance(by: .milliseconds(5))
        var nested: (any Error)?
        try wheel.advance(to: clock.now) { _ in
            do { try wheel.advance(to: clock.now) { _ in } } catch { nested = error }
        }
        #expect(nested as? HeartbeatError == .concurrentAdvance)
    }

    /// The wheel sleeps until its next occupied slot: it reports no due time while empty and the
    /// end of the earliest slot otherwise.
    @Test func reportsWhenItIsNextDue() throws {
        let wheel = try wheel()
        #expect(try wheel.advance(to: clock.now) { _ in } == nil)
        _ = try wheel.register(ttl: HeartbeatTTL(.milliseconds(7)))
        _ = try wheel.register(ttl: HeartbeatTTL(.seconds(3)))
        let due = try #require(try wheel.advance(to: clock.now) { _ in })
        #expect(due.duration(since: wheel.epoch) == .milliseconds(8))
    }

    @Test func theCachedBeatClockIsUsedWhilePublished() throws {
        let wheel = try wheel()
        let ttl = try HeartbeatTTL(.milliseconds(100))
        let node = try wheel.register(ttl: ttl)
        #expect(!wheel.takeBeatClockUsage())
        // Published a second ahead: a beat now lands its deadline at 1.1 s.
        wheel.publishBeatClock(validUntil: clock.now.advanced(by: .seconds(1)))
        try wheel.beat(node, ttl: ttl)
        #expect(wheel.takeBeatClockUsage())
        wheel.withdrawBeatClock()
        #expect(try run(wheel, by: .milliseconds(1050)).isEmpty)
        #expect(try run(wheel, by: .milliseconds(60)) == [node])
    }

    /// A million nodes through virtual time: each registered with a deadline spread over one
    /// second, a tenth of them beaten once; every node expires exactly once, none early, none
    /// more than one slot late.
    @Test func aMillionNodesExpireExactlyOnceInVirtualTime() throws {
        let count = 1_000_000
        let wheel = try wheel(capacity: count)
        var deadlines: [HeartbeatHandle: UInt64] = [:]
        deadlines.reserveCapacity(count)
        let start = clock.now
        for i in 0..<count {
            let ttl = HeartbeatTTL(uncheckedMicroseconds: 1_000_000 + UInt64(i % 1000) * 1000 + UInt64(i % 7))
            let node = try wheel.register(ttl: ttl)
            deadlines[node] = ttl.microseconds
            if i % 10 == 0 {
                let longer = HeartbeatTTL(uncheckedMicroseconds: ttl.microseconds + 500_000)
                try wheel.beat(node, ttl: longer)
                deadlines[node] = longer.microseconds
            }
        }
        var seen = Set<HeartbeatHandle>(minimumCapacity: count)
        var problems = 0
        for _ in 0..<2_600 {
            try clock.advance(by: .milliseconds(1))
            let now =
                UInt64(clock.now.duration(since: start).components.attoseconds / 1_000_000_000_000)
                + UInt64(clock.now.duration(since: start).components.seconds) * 1_000_000
            try wheel.advance(to: clock.now) { expiry in
                for node in expiry.handles {
                    let deadline = deadlines[node] ?? .max
                    if deadline > now || now - deadline > 1000 || !seen.insert(node).inserted { problems += 1 }
                }
            }
        }
        #expect(problems == 0)
        #expect(seen.count == count)
        #expect(wheel.statistics.expired == count)
    }

    /// A batch does exactly what its beats one by one would: the same refusals at the same
    /// positions, the same deadlines afterwards. 70 000 nodes take the prefetching path.
    @Test(arguments: [300, 70_000])
    func aBatchBeatsLikeItsBeatsOneByOne(nodes: Int) throws {
        let single = try wheel(capacity: nodes)
        let batched = try wheel(capacity: nodes)
        let ttl = try HeartbeatTTL(.milliseconds(100))
        let handles = try (0..<nodes).map { _ in try single.register(ttl: ttl) }
        #expect(try (0..<nodes).map { _ in try batched.register(ttl: ttl) } == handles)
        for handle in handles where handle.index % 7 == 0 {
            #expect(try single.remove(handle) == .removed)
            #expect(try batched.remove(handle) == .removed)
        }
        var random = SplitMix64(seed: 11)
        // Every third node beaten, some twice, plus a handle from no wheel.
        var sequence = handles.filter { $0.index % 3 == 0 }
        sequence += (0..<nodes / 10).map { _ in handles[Int(random.next() % UInt64(nodes))] }
        sequence.shuffle(using: &random)
        sequence.insert(HeartbeatHandle(index: UInt32(nodes) + 5, generation: 0), at: sequence.count / 2)

        func beatBoth() -> [String] {
            var oneByOne: [String] = []
            for (position, handle) in sequence.enumerated() {
                do { try single.beat(handle, ttl: ttl) } catch { oneByOne.append("\(position): \(error)") }
            }
            var inBatches: [String] = []
            var refusals = 0
            for start in stride(from: 0, to: sequence.count, by: 64) {
                let chunk = Array(sequence[start..<min(start + 64, sequence.count)])
                refusals += batched.beat(chunk, ttl: ttl) { inBatches.append("\(start + $0): \($1)") }
            }
            #expect(refusals == inBatches.count)
            #expect(inBatches == oneByOne)
            return oneByOne
        }
        try clock.advance(by: .milliseconds(50))
        #expect(beatBoth().count >= nodes / 21)  // the removed ones and the foreign handle
        try clock.advance(by: .milliseconds(70))
        var expiredSingly: [HeartbeatHandle] = []
        var expiredBatched: [HeartbeatHandle] = []
        try single.advance(to: clock.now) { expiredSingly += $0.handles }
        try batched.advance(to: clock.now) { expiredBatched += $0.handles }
        #expect(!expiredSingly.isEmpty)
        #expect(Set(expiredSingly) == Set(expiredBatched))
        #expect(expiredSingly.allSatisfy { $0.index % 3 != 0 })
        // Expired nodes refuse with `.expired`, in the batch as one by one.
        sequence += expiredSingly.prefix(20)
        sequence.shuffle(using: &random)
        #expect(beatBoth().filter { $0.contains("has expired") }.count == min(20, expiredSingly.count))
    }
}
