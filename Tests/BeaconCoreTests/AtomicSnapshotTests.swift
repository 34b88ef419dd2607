import Testing

@testable import BeaconCore

/// The snapshot cell's reclamation and the count it carries in its pin word.
@Suite struct AtomicSnapshotTests {
    final class Tracked: Sendable {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    @Test func aReplacedObjectIsReleasedWhileACountIsCarried() {
        let snapshot = AtomicSnapshot(Tracked(1))
        // Leases outstanding live in the word's upper bits; they are not readers.
        snapshot.addToCarried(5)
        weak var first: Tracked?
        snapshot.withPinned { first = $0 }
        snapshot.publish(Tracked(2))
        #expect(first == nil, "a carried count kept a replaced object alive")
        #expect(snapshot.carried() == 5)
        #expect(snapshot.load().value == 2)
    }

    @Test func aReplacedObjectWaitsForThePinnedReader() {
        let snapshot = AtomicSnapshot(Tracked(1))
        weak var first: Tracked?
        snapshot.withPinned(addingToCarried: -3) { value, carried in
            first = value
            #expect(carried == -3)
            snapshot.publish(Tracked(2))
            #expect(first != nil, "released under a pinned reader")
            #expect(value.value == 1)
        }
        #expect(first != nil, "released before a later publish")
        snapshot.publish(Tracked(3))
        #expect(first == nil)
    }

    @Test func droppingTheCellReleasesTheCurrentAndTheRetiredObjects() {
        weak var first: Tracked?
        weak var second: Tracked?
        do {
            let snapshot = AtomicSnapshot(Tracked(1))
            snapshot.withPinned { value in
                first = value
                // Published under a pin: the first object waits on the retired list.
                snapshot.publish(Tracked(2))
                second = snapshot.load()
            }
            #expect(first != nil && second != nil)
        }
        #expect(first == nil, "a retired object outlived its cell")
        #expect(second == nil, "the current object outlived its cell")
    }

    @Test func theCarriedCountAddsUpAroundPins() {
        let snapshot = AtomicSnapshot(Tracked(1))
        for step in 1...1000 {
            let inside = snapshot.withPinned(addingToCarried: 1) { _, carried in carried }
            #expect(inside == step)
        }
        #expect(snapshot.addToCarried(-1000) == 0)
        #expect(snapshot.addToCarried(-1) == -1)
        #expect(snapshot.addToCarried(1 << 42) == (1 << 42) - 1)
        // Nothing carried leaked into the pin count: a publish still releases at once.
        weak var current: Tracked?
        snapshot.withPinned { current = $0 }
        snapshot.publish(Tracked(2))
        #expect(current == nil)
    }
}
