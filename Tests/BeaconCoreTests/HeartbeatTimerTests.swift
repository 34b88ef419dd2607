@testable import BeaconCore
import Foundation
import Synchronization
import Testing

/// The timer in real time, with beats, removals and expiry racing on several threads. CI runs
/// this suite under ThreadSanitizer. Nothing here asserts a duration: TTLs are either far longer
/// than the test (nodes that must survive) or far shorter (nodes that must expire), and waits are
/// for outcomes, with a generous cap.
@Suite struct HeartbeatTimerTests {
    final class Deliveries: Sendable {
        let handles = Mutex<[HeartbeatHandle]>([])
        func record(_ expiry: HeartbeatExpiry) { handles.withLock { $0 += expiry.handles } }
        var snapshot: [HeartbeatHandle] { handles.withLock { $0 } }
    }

    @Test func beatsRemovalsAndExpiryRaceWithoutLosingOrDuplicatingAnything() throws {
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(60), capacity: 4096))
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
        #expect(Set(delivered).isDisjoint(with: removed.filter { $0.value == .removed }.keys), "a removed node's expiry was delivered")
        for (node, outcome) in removed where outcome == .alreadyExpired {
            #expect(delivered.contains(node))
        }
        #expect(Set(delivered).union(removed.filter { $0.value == .removed }.keys) == Set(quitters))
        #expect(keepers.allSatisfy { wheel.isArmed($0) })
        #expect(timer.wakeUps > 0)
    }

    /// With nothing due within the window and no beats, the thread does not wake at all.
    @Test func anIdleTimerDoesNotWakeUp() throws {
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(60)))
        try timer.start { _ in }
        defer { timer.stop() }
        let ttl = try HeartbeatTTL(.seconds(60))
        let nodes = try (0..<10_000).map { _ in try timer.wheel.register(ttl: ttl) }
        for node in nodes { try timer.wheel.beat(node, ttl: ttl) }
        // Let the thread file the nodes and notice that beats stopped (a few wake-ups at most).
        var settled = timer.wakeUps
        for _ in 0..<100 {
            Thread.sleep(forTimeInterval: 0.01)
            if timer.wakeUps == settled { break }
            settled = timer.wakeUps
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(timer.wakeUps == settled)
        // A registration due sooner than anything filed wakes it.
        _ = try timer.wheel.register(ttl: HeartbeatTTL(.milliseconds(1)))
        Thread.sleep(forTimeInterval: 0.05)
        #expect(timer.wakeUps > settled)
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
