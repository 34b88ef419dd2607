import Foundation
import Synchronization
import Testing

@testable import BeaconCore

/// The timer's thread. The first test is the real-time smoke test (real threads racing beats,
/// removals and expiry; CI runs this suite under ThreadSanitizer): TTLs are far longer than the
/// test (nodes that must survive) or far shorter (nodes that must expire), and it waits only for
/// outcomes. The others run the thread on a manual clock.
@Suite(.timeLimit(.minutes(1))) struct HeartbeatTimerTests {
    final class Deliveries: Sendable {
        let handles = Mutex<[HeartbeatHandle]>([])
        func record(_ expiry: HeartbeatExpiry) { handles.withLock { $0 += expiry.handles } }
        var snapshot: [HeartbeatHandle] { handles.withLock { $0 } }
    }

    @Test func beatsRemovalsAndExpiryRaceWithoutLosingOrDuplicatingAnything() throws {
        let timer = try HeartbeatTimer(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(60), capacity: 4096))
        let deliveries = Deliveries()
        try timer.start { deliveries.record($0) }
        let wheel = timer.wheel
        let long = try HeartbeatTTL(.seconds(60))
        let short = try HeartbeatTTL(.milliseconds(5))
        let keepers = try (0..<1000).map { _ in try wheel.register(ttl: long) }
        let quitters = try (0..<400).map { _ in try wheel.register(ttl: short) }
        let removals = Mutex<[HeartbeatHandle: HeartbeatRemoval]>([:])

        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            if worker == 2 {
                // Remove every other quitter while the wheel may be expiring it.
                for node in quitters.enumerated().filter({ $0.offset.isMultiple(of: 2) }).map(\.element) {
                    if let outcome = try? wheel.remove(node) { removals.withLock { $0[node] = outcome } }
                }
                return
            }
            var generator = SplitMix64(seed: UInt64(worker))
            for _ in 0..<200_000 {
                let node = keepers[Int(generator.next(upperBound: UInt64(keepers.count)))]
                try? wheel.beat(node, ttl: long)
            }
        }

        // Every quitter ends: delivered, or removed before the wheel reached it.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let ended = Set(deliveries.snapshot).union(removals.withLock { $0.filter { $0.value == .removed }.keys })
            if ended.isSuperset(of: quitters) { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        timer.stop()

        let delivered = deliveries.snapshot
        let removed = removals.withLock { $0 }
        #expect(Set(delivered).count == delivered.count, "an expiry was delivered twice")
        #expect(Set(delivered).isDisjoint(with: keepers), "a node that kept beating expired")
        #expect(
            Set(delivered).isDisjoint(with: removed.filter { $0.value == .removed }.keys),
            "a removed node's expiry was delivered")
        for (node, outcome) in removed where outcome == .alreadyExpired {
            #expect(delivered.contains(node))
        }
        #expect(Set(delivered).union(removed.filter { $0.value == .removed }.keys) == Set(quitters))
        #expect(keepers.allSatisfy { wheel.isArmed($0) })
        #expect(timer.wakeUps > 0)
    }

    /// On a manual clock the thread sleeps in virtual time: with nothing due and no beats it does
    /// not wake at all while a virtual minute passes, and the minute's end expires every node, none
    /// a slot early.
    @Test func anIdleTimerDoesNotWakeUpUntilSomethingIsDue() async throws {
        let start = BeaconInstant(nanoseconds: 1_000_000_000)
        let clock = ManualClock(start: start)
        let timer = try HeartbeatTimer(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(60)), clock: clock)
        let (expiries, delivered) = AsyncStream<[HeartbeatHandle]>.makeStream()
        try timer.start { delivered.yield($0.handles) }
        defer { timer.stop() }
        let ttl = try HeartbeatTTL(.seconds(60))
        let nodes = try (0..<10_000).map { _ in try timer.wheel.register(ttl: ttl) }
        for node in nodes { try timer.wheel.beat(node, ttl: ttl) }
        // Once the thread has filed the nodes it parks until their slot, a minute on. A signal
        // (each registration sends one) takes it off the clock's sleepers at once, so being
        // parked here means it has handled them.
        let idleFrom = start.advanced(by: .seconds(59))
        await clock.waitForSleepers(1)
        while let next = clock.nextDeadline, next < idleFrom {
            try clock.advance(to: next)
            await clock.waitForSleepers(1)
        }
        #expect(clock.nextDeadline.map { $0 >= idleFrom } == true)
        let settled = timer.wakeUps
        try clock.advance(to: idleFrom)
        await clock.waitForSleepers(1)
        #expect(timer.wakeUps == settled)
        #expect(timer.wheel.isArmed(nodes[0]))

        try clock.advance(to: start.advanced(by: .seconds(60)).advanced(by: .milliseconds(2)))
        var expired: Set<HeartbeatHandle> = []
        for await batch in expiries {
            expired.formUnion(batch)
            if expired.count == nodes.count { break }
        }
        #expect(expired == Set(nodes))
        #expect(timer.wakeUps > settled)
    }

    /// A pass that outlasts its slot (an `onExpiry` that blocks) does not leave beats counting
    /// from the reading the thread published before it: a node beaten meanwhile expires no
    /// earlier than its TTL after the beat. Real time, asserting only a lower bound: a slow
    /// machine makes the expiry later, never earlier.
    @Test func aBeatDuringALongPassIsNeverEarly() async throws {
        final class Probe: Sendable {
            let blocking = Atomic<Bool>(false)
            let expiredAt = Mutex<BeaconInstant?>(nil)
        }
        let clock = MonotonicClock()
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(10)))
        let ttl = try HeartbeatTTL(.seconds(2))
        let sentinel = try timer.wheel.register(ttl: HeartbeatTTL(.milliseconds(50)))
        let keeper = try timer.wheel.register(ttl: HeartbeatTTL(.seconds(10)))
        let probe = Probe()
        try timer.start { expiry in
            if expiry.handles.contains(where: { $0 != sentinel && $0 != keeper }) {
                probe.expiredAt.withLock { $0 = clock.now }
            }
            if expiry.handles.contains(sentinel) {
                probe.blocking.store(true, ordering: .releasing)
                usleep(600_000)
            }
        }
        defer { timer.stop() }
        // Beats all the while keep the thread publishing its reading once a slot, up to the
        // sentinel's pass (a slot without a beat would withdraw it).
        while !probe.blocking.load(ordering: .acquiring) {
            try timer.wheel.beat(keeper, ttl: HeartbeatTTL(.seconds(10)))
            await Task.yield()
        }
        // Well into the blocked pass, where a reading published before it is 300 ms stale.
        try await Task.sleep(for: .milliseconds(300))
        // Registered now (registrations read the clock itself), then beaten: the beat's deadline
        // is the one that counts.
        let node = try timer.wheel.register(ttl: HeartbeatTTL(.milliseconds(10)))
        let beatAt = clock.now
        try timer.wheel.beat(node, ttl: ttl)
        while probe.expiredAt.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(5)) }
        let expired = try #require(probe.expiredAt.withLock { $0 })
        #expect(expired.duration(since: beatAt) >= .seconds(2))
    }

    /// A timer stopped from its own `onExpiry` is not joined: its thread ends the pass on its
    /// own. Started again before that, two threads would own the wheel, so the start is refused
    /// until the old thread has ended.
    @Test func aStartWaitsForAThreadStoppedFromItsOwnExpiryToEnd() async throws {
        final class Gate: Sendable {
            let timer = Mutex<HeartbeatTimer<ManualClock>?>(nil)
            let stopped = Atomic<Bool>(false)
            let release = Atomic<Bool>(false)
        }
        let clock = ManualClock(start: BeaconInstant(nanoseconds: 1_000_000_000))
        let timer = try HeartbeatTimer(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(1), stallThreshold: nil),
            clock: clock)
        let gate = Gate()
        gate.timer.withLock { $0 = timer }
        try timer.start { _ in
            gate.timer.withLock { $0 }?.stop()
            gate.stopped.store(true, ordering: .releasing)
            while !gate.release.load(ordering: .acquiring) { usleep(1_000) }
        }
        _ = try timer.wheel.register(ttl: HeartbeatTTL(.milliseconds(1)))
        await clock.waitForSleepers(1)
        try clock.advance(by: .milliseconds(3))
        while !gate.stopped.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
        #expect(throws: HeartbeatError.self) { try timer.start { _ in } }
        gate.release.store(true, ordering: .releasing)
        var started = false
        while !started {
            do {
                try timer.start { _ in }
                started = true
            } catch {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        timer.stop()
        gate.timer.withLock { $0 = nil }
    }

    /// A timer started again after a stop does not count the time it was stopped as a stall:
    /// a node registered after the restart expires on time, not a stop's length late.
    @Test func aTimerStartedAgainIsNotLateForWhatItHoldsNext() async throws {
        let clock = ManualClock(start: BeaconInstant(nanoseconds: 1_000_000_000))
        let timer = try HeartbeatTimer(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(10), stallThreshold: .seconds(1)),
            clock: clock)
        let (expiries, delivered) = AsyncStream<[HeartbeatHandle]>.makeStream()
        try timer.start { delivered.yield($0.handles) }
        // A term: a node comes and goes; its record stays filed until a pass sweeps it.
        let gone = try timer.wheel.register(ttl: HeartbeatTTL(.seconds(5)))
        await clock.waitForSleepers(1)
        _ = try timer.wheel.remove(gone)
        timer.stop()
        // A minute without a term, then the next.
        try clock.advance(by: .seconds(60))
        try timer.start { delivered.yield($0.handles) }
        defer { timer.stop() }
        let node = try timer.wheel.register(ttl: HeartbeatTTL(.seconds(1)))
        await clock.waitForSleepers(1)
        try clock.advance(by: .milliseconds(1_002))
        var expired = expiries.makeAsyncIterator()
        #expect(await expired.next() == [node])
    }

    @Test func aTimerRefusesAClockItCannotBlockOn() {
        struct ForeignClock: BeaconClock {
            var now: BeaconInstant { .zero }
            func sleep(until deadline: BeaconInstant, tolerance: Duration?) async throws {}
        }
        #expect(throws: HeartbeatError.self) { try HeartbeatTimer(clock: ForeignClock()) }
    }

    @Test func startingTwiceIsRefusedAndStopIsIdempotent() throws {
        let timer = try HeartbeatTimer()
        try timer.start { _ in }
        #expect(throws: HeartbeatError.self) { try timer.start { _ in } }
        timer.stop()
        timer.stop()
        try timer.start { _ in }
        timer.stop()
    }
}
