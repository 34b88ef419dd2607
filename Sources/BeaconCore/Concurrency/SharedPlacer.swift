import BeaconPrimitives

/// A placer shared between threads: membership changes are serialized and published as whole
/// new placers, while lookups run without locks on the placer they last saw.
///
/// Each thread looks up through its own ``Reader``. A reader keeps a strong reference to the
/// placer it uses and, on every lookup, checks with one acquire load that it is still the
/// published one; after a change it re-pins once (`AtomicSnapshot`) and moves to the new
/// placer. A lookup never sees a half-built placer, never waits for a writer, and never writes
/// to memory shared with other readers, so readers on different cores scale linearly.
///
/// ```swift
/// let shared = SharedPlacer(try BoundedLoadTable(members: [.init("a"), .init("b")]))
/// var reader = shared.makeReader()          // one per thread or task
/// let owner = try reader.memberIndex(for: "user-42")
/// try shared.add(PlacementMember("c"))       // readers switch on their next lookup
/// ```
public final class SharedPlacer<P: Placer>: Sendable {
    @usableFromInline
    final class Box: Sendable {
        @usableFromInline let placer: P
        init(_ placer: P) { self.placer = placer }
    }

    @usableFromInline let snapshot: AtomicSnapshot<Box>
    /// Serializes writers; lookups never take it.
    private let writer: PosixMutex<P>

    /// Shares `placer`.
    public init(_ placer: P) {
        snapshot = AtomicSnapshot(Box(placer))
        writer = PosixMutex(placer)
    }

    /// The placer published last.
    public var current: P { snapshot.load().placer }

    /// Applies `transform` to the current placer and publishes the result; writers run one at a
    /// time. If `transform` throws, nothing changes.
    public func update(_ transform: (P) throws(PlacementError) -> P) throws(PlacementError) {
        try writer.withLock { (placer: inout P) throws(PlacementError) in
            let next = try transform(placer)
            placer = next
            snapshot.publish(Box(next))
        }
    }

    /// Adds `member` and publishes the result.
    public func add(_ member: PlacementMember) throws(PlacementError) {
        try update { placer throws(PlacementError) in try placer.adding(member) }
    }

    /// Removes the member named `name` and publishes the result.
    public func remove(_ name: String) throws(PlacementError) {
        try update { placer throws(PlacementError) in try placer.removing(name) }
    }

    /// Re-weights the member named `name` and publishes the result.
    public func reweight(_ name: String, to weight: Double) throws(PlacementError) {
        try update { placer throws(PlacementError) in try placer.reweighting(name, to: weight) }
    }

    /// A reader for one thread or task.
    public func makeReader() -> Reader { Reader(self) }

    /// A per-thread view of a ``SharedPlacer``: lookups are lock-free and allocation-free.
    /// Copies are independent readers; do not share one reader between threads at once.
    public struct Reader: Sendable {
        @usableFromInline let shared: SharedPlacer<P>
        /// Keeps the published placer alive and identifies it for the freshness check.
        @usableFromInline var box: Box
        /// This reader's own copy of the placer: lookups read it without touching the shared box's
        /// (or the tables') reference counts, which two threads would otherwise fight over.
        @usableFromInline var cached: P

        init(_ shared: SharedPlacer<P>) {
            self.shared = shared
            let box = shared.snapshot.load()
            self.box = box
            self.cached = box.placer
        }

        @inlinable @inline(__always)
        mutating func refreshIfStale() {
            if !shared.snapshot.isCurrent(box) {
                box = shared.snapshot.load()
                cached = box.placer
            }
        }

        /// The placer this reader will look up in, refreshed if a change was published.
        @inlinable
        public var placer: P {
            mutating get {
                refreshIfStale()
                return cached
            }
        }

        /// The owner of `hash` in the latest published placer.
        @inlinable
        public mutating func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
            refreshIfStale()
            return try cached.memberIndex(forHash: hash)
        }

        /// The owner of `key` in the latest published placer.
        @inlinable
        public mutating func memberIndex(for key: String) throws(PlacementError) -> Int {
            refreshIfStale()
            return try cached.memberIndex(for: key)
        }

        /// The owning member of `key` in the latest published placer.
        @inlinable
        public mutating func member(for key: String) throws(PlacementError) -> PlacementMember {
            refreshIfStale()
            return try cached.member(for: key)
        }
    }
}
