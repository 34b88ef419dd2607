import BeaconPrimitives
public import Synchronization

/// A lease on one unit of a member's capacity, returned by a load-aware placer's `acquire`.
/// Give it back with the same placer's `release(_:)`, exactly once.
public struct PlacementLease: Sendable, Hashable {
    /// The member's index in the placer's member list at the time of the acquire.
    public let memberIndex: Int
    /// The member's name.
    public let memberName: String
    @usableFromInline let counterSlot: Int
    @usableFromInline let trackerID: ObjectIdentifier

    @usableFromInline
    init(memberIndex: Int, memberName: String, counterSlot: Int, trackerID: ObjectIdentifier) {
        self.memberIndex = memberIndex
        self.memberName = memberName
        self.counterSlot = counterSlot
        self.trackerID = trackerID
    }
}

/// The shared machinery of the load-aware placers: a published member snapshot (a placer plus
/// each member's counter slot and share of the total weight), per-member atomic in-flight
/// counters, and membership edits that keep a member's counter across changes.
///
/// A removed member's counter slot is reused only after its last lease comes back, so a late
/// release can never lower a newcomer's count.
@usableFromInline
final class LoadTracker<P: Placer>: Sendable {
    @usableFromInline
    final class Members: Sendable {
        @usableFromInline let placer: P
        @usableFromInline let counterSlots: [Int]
        /// weight / total weight, by member index.
        @usableFromInline let shares: [Double]

        init(placer: P, counterSlots: [Int]) {
            self.placer = placer
            self.counterSlots = counterSlots
            let total = placer.members.reduce(0) { $0 + $1.weight }
            self.shares = placer.members.map { $0.weight / total }
        }
    }

    private struct Writer {
        var placer: P
        var slotByName: [String: Int]
        var freeSlots: [Int]
        var draining: [Int]
    }

    @usableFromInline let counters: InFlightCounters
    /// The published members. Its carried count is the number of leases outstanding over all
    /// members (removed ones still draining included), so an acquire pins the members and counts
    /// its request in one locked add; up to 2⁴³ − 1 leases can be outstanding.
    @usableFromInline let snapshot: AtomicSnapshot<Members>
    /// Serializes membership edits; acquires and releases never take it.
    private let writer: PosixMutex<Writer>

    init(_ placer: P, capacity: Int) throws(PlacementError) {
        guard (1...MemberTable.limit).contains(capacity) else {
            throw .invalidParameter(name: "capacity", value: capacity, allowed: 1...MemberTable.limit)
        }
        let count = placer.members.count
        guard count <= capacity else { throw .tooManyMembers(limit: capacity) }
        counters = InFlightCounters(capacity: capacity)
        var slotByName: [String: Int] = [:]
        for (i, member) in placer.members.enumerated() {
            slotByName[member.name] = i
        }
        snapshot = AtomicSnapshot(Members(placer: placer, counterSlots: Array(0..<count)))
        writer = PosixMutex(
            Writer(
                placer: placer, slotByName: slotByName, freeSlots: Array((count..<capacity).reversed()), draining: []))
    }

    var current: P { snapshot.load().placer }

    /// Applies a membership change and publishes it.
    func update(_ transform: (P) throws(PlacementError) -> P) throws(PlacementError) {
        try writer.withLock { (state: inout Writer) throws(PlacementError) in
            let next = try transform(state.placer)
            var slotByName: [String: Int] = [:]
            var claimed = Set<Int>()
            var newcomers: [String] = []
            for member in next.members {
                if let slot = state.slotByName[member.name] {
                    slotByName[member.name] = slot
                    claimed.insert(slot)
                } else {
                    newcomers.append(member.name)
                }
            }
            // Slots of departed members drain; drained ones become free again.
            for (_, slot) in state.slotByName where !claimed.contains(slot) {
                state.draining.append(slot)
            }
            state.draining.removeAll { slot in
                guard counters[slot].pointee.load(ordering: .acquiring) == 0 else { return false }
                state.freeSlots.append(slot)
                return true
            }
            guard newcomers.count <= state.freeSlots.count else {
                throw .tooManyMembers(limit: counters.capacity - state.draining.count)
            }
            for name in newcomers {
                slotByName[name] = state.freeSlots.removeLast()
            }
            state.placer = next
            state.slotByName = slotByName
            snapshot.publish(Members(placer: next, counterSlots: next.members.map { slotByName[$0.name]! }))
        }
    }

    /// Takes one unit on `members`' member `index`, counted in `counterSlot`.
    @inlinable
    func lease(_ members: Members, index: Int) -> PlacementLease {
        PlacementLease(
            memberIndex: index,
            memberName: members.placer.members[index].name,
            counterSlot: members.counterSlots[index],
            trackerID: ObjectIdentifier(self)
        )
    }

    @inlinable
    func release(_ lease: PlacementLease) throws(PlacementError) {
        guard lease.trackerID == ObjectIdentifier(self), lease.counterSlot < counters.capacity else {
            throw .releaseWithoutAcquire(member: lease.memberName)
        }
        let counter = counters[lease.counterSlot]
        var current = counter.pointee.load(ordering: .relaxed)
        while true {
            guard current > 0 else { throw .releaseWithoutAcquire(member: lease.memberName) }
            let (exchanged, original) = counter.pointee.compareExchange(
                expected: current, desired: current - 1, ordering: .relaxed)
            if exchanged { break }
            current = original
        }
        snapshot.addToCarried(-1)
    }

    /// Current in-flight count of each member, by member index.
    func loads() -> [Int] {
        let members = snapshot.load()
        return members.counterSlots.map { counters[$0].pointee.load(ordering: .relaxed) }
    }
}
