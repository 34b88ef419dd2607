public import BeaconCore
import BeaconPrimitives

/// A placer order over one of the core's load-aware placers (`BoundedLoadBalancer` or
/// `PowerOfTwoChoicesPlacer`): each attempt acquires a lease on the runner the core picks among
/// those that have not refused the call, holds it while the runner runs the call, and releases
/// it when the runner answers. The placer's in-flight counts are therefore its own calls running
/// on each runner.
///
/// The core's membership follows the fetched runner list, with runner addresses as member names
/// and member indices equal to list positions. A pool that returns the same array every time is
/// recognised by identity in O(1); a different array is compared by address and, when the set
/// changed, replaces the membership (counts of runners that stay are kept).
///
/// Use one load-aware placer per runner pool. Fn shares one placer between runner groups; here
/// each group's list would replace the other's membership on every fetch (rebuilding the ring)
/// and passes would fall back to walking their list without load counts.
public final class LoadAwareOrder<Balancer: LoadAwarePlacer>: PlacementOrder {
    /// The core placer; its `LoadAwarePlacer/loads` are the calls this placer has running.
    public let balancer: Balancer
    @usableFromInline let known: AtomicSnapshot<KnownList>
    private let sync = PosixMutex(())

    /// The runner list the membership was last built from, kept alive so its buffer address
    /// identifies it.
    @usableFromInline
    final class KnownList: Sendable {
        @usableFromInline let runners: [any Runner]
        /// Whether the addresses could be members (non-empty and distinct); when not, passes walk
        /// the list linearly.
        @usableFromInline let isUsable: Bool

        init(_ runners: [any Runner], isUsable: Bool) {
            self.runners = runners
            self.isUsable = isUsable
        }

        @inlinable
        func isSameArray(as other: [any Runner]) -> Bool {
            runners.count == other.count
                && runners.withUnsafeBufferPointer { mine in
                    other.withUnsafeBufferPointer { $0.baseAddress == mine.baseAddress }
                }
        }
    }

    /// Wraps `balancer`, whose members are replaced by each fetched runner list.
    public init(balancer: Balancer) {
        self.balancer = balancer
        known = AtomicSnapshot(KnownList([], isUsable: false))
    }

    @inlinable
    public func key<Call: RunnerCall>(for call: Call) -> UInt64 {
        balancer.keyHasher.hash(call.model.functionID)
    }

    @inlinable
    public func makePass(over runners: [any Runner], key: UInt64) -> Pass {
        guard !runners.isEmpty else { return Pass(order: self, runners: runners, key: key, isBalanced: false) }
        let isUsable = known.withPinned { list in list.isSameArray(as: runners) ? list.isUsable : nil }
        return Pass(order: self, runners: runners, key: key, isBalanced: isUsable ?? adopt(runners))
    }

    /// Makes `runners` the membership if its addresses differ from the current members'.
    /// Returns whether they can be members at all.
    @usableFromInline
    func adopt(_ runners: [any Runner]) -> Bool {
        sync.withLock { _ in
            let current = balancer.members
            let unchanged =
                current.count == runners.count
                && zip(current, runners).allSatisfy { $0.name == $1.address }
            var isUsable = unchanged
            if !unchanged {
                do {
                    try balancer.replaceMembers(with: runners.map { PlacementMember($0.address) })
                    isUsable = true
                } catch {
                    // Duplicate or empty addresses: a pool bug, but calls must still be placed.
                    isUsable = false
                }
            }
            known.publish(KnownList(runners, isUsable: isUsable))
            return isUsable
        }
    }

    /// One pass: leases from the balancer, skipping runners that refused earlier in the pass.
    public struct Pass: PlacementPass {
        @usableFromInline let order: LoadAwareOrder
        @usableFromInline let runners: [any Runner]
        @usableFromInline let key: UInt64
        @usableFromInline var refused = RefusedRunners()
        @usableFromInline var lease: PlacementLease?
        @usableFromInline var current = -1
        @usableFromInline var attempts = 0
        /// Set when the pass walks the list from the key's jump bucket instead of asking the
        /// balancer: the list could not become the membership (duplicate or empty addresses), or
        /// another placement replaced the membership during this pass, so member indices no longer
        /// match this list's positions and refusals could not be tracked by them. Calls placed this
        /// way are not counted in the balancer.
        @usableFromInline var linear: LinearPass?

        @inlinable
        init(order: LoadAwareOrder, runners: [any Runner], key: UInt64, isBalanced: Bool) {
            self.order = order
            self.runners = runners
            self.key = key
            if !isBalanced { linear = Self.linearPass(runners.count, key) }
        }

        @inlinable
        static func linearPass(_ count: Int, _ key: UInt64) -> LinearPass {
            LinearPass(count: count, start: count == 0 ? 0 : JumpHashPlacer.bucket(for: key, buckets: count))
        }

        @inlinable
        public mutating func nextRunner() -> Int? {
            guard attempts < runners.count else { return nil }
            if linear != nil { return nextLinear() }
            let refused = self.refused
            guard let lease = try? order.balancer.acquire(forHash: key, skipping: { refused.contains($0) }) else {
                return nil
            }
            let index = lease.memberIndex
            guard index < runners.count && runners[index].address == lease.memberName else {
                try? order.balancer.release(lease)
                linear = Self.linearPass(runners.count, key)
                return nextLinear()
            }
            self.lease = lease
            current = index
            attempts += 1
            return index
        }

        @inlinable
        mutating func nextLinear() -> Int? {
            while let index = linear!.nextRunner() {
                if refused.contains(index) { continue }
                current = index
                attempts += 1
                return index
            }
            return nil
        }

        @inlinable
        public mutating func attemptEnded(placed: Bool) {
            if let lease {
                try? order.balancer.release(lease)
                self.lease = nil
            }
            if !placed && current >= 0 { refused.insert(current) }
        }
    }
}

extension LoadAwareOrder where Balancer == BoundedLoadBalancer {
    /// Bounded-load consistent hashing over the runners, load factor `epsilon`: a function's calls
    /// go to its ring owner while that runner holds fewer than (1+ε)× the average of this placer's
    /// calls, and spill clockwise to the next runner with room when it does not.
    ///
    /// - Throws: `PlacementError/invalidLoadFactor(_:)` unless ε is finite and positive.
    public convenience init(epsilon: Double = 0.1, keyHasher: KeyHasher = .default) throws(PlacementError) {
        self.init(balancer: try BoundedLoadBalancer(members: [], epsilon: epsilon, keyHasher: keyHasher))
    }
}

extension LoadAwareOrder where Balancer == PowerOfTwoChoicesPlacer {
    /// Power of two choices: each call goes to the less loaded of the two runners its function
    /// hashes to.
    public convenience init(keyHasher: KeyHasher = .default) {
        // An empty member list and the default capacity are always valid.
        self.init(balancer: try! PowerOfTwoChoicesPlacer(members: [], keyHasher: keyHasher))
    }
}
