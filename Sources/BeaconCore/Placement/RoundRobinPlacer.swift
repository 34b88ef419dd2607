import BeaconSystemShims
import Synchronization

/// Round robin, Fn's "naive" placer: ignores the key and hands out members in turn.
///
/// Perfect balance and no affinity at all: a key goes to a different member on every call. The
/// turn is kept per CPU: relaxed atomic counters, as many as the system's CPUs rounded up to a
/// power of two (at most 1 024), each on a cache line of its own, and a lookup bumps the counter
/// of the CPU it runs on. Threads on different CPUs therefore never write the same line, so
/// lookups scale with cores, where one shared counter made two threads slower than one. Each
/// counter hands out members in strict turn, so at any moment the members' counts differ by at
/// most the number of counters, instead of by one. A thread
/// that migrates between reading its CPU and bumping the counter only shares a line for that
/// call; the increment is atomic either way. Placers derived by a membership change share the
/// counters and carry on the rotation.
public struct RoundRobinPlacer: Placer {
    /// The name reports use for this placer.
    ///
    /// - Complexity: O(1).
    public static let algorithmName = "round-robin"

    /// One turn counter per CPU, each on a 128-byte line (two 64-byte lines: adjacent-line
    /// prefetchers would otherwise pair neighbours).
    @usableFromInline
    final class Turn: @unchecked Sendable {
        // Safety of `@unchecked Sendable`: the counters are atomics, written only through
        // `wrappingAdd`; the buffer is immutable after `init` and freed in `deinit`.
        static var stride: Int { 128 / MemoryLayout<Atomic<UInt64>>.stride }
        let counters: UnsafeMutablePointer<Atomic<UInt64>>
        /// Counters minus one; the counter count is a power of two.
        let mask: Int

        init() {
            let cpus = Int(beacon_cpu_count())
            let count = min(1 << (Int.bitWidth - (cpus - 1).leadingZeroBitCount), 1024)
            mask = count - 1
            let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 128, alignment: 128)
            counters = raw.bindMemory(to: Atomic<UInt64>.self, capacity: count * Self.stride)
            for index in 0..<count {
                // Different starting points, so that threads starting together do not all hand
                // out member 0 first.
                (counters + index * Self.stride).initialize(to: Atomic(UInt64(index) * 2_654_435_761))
            }
        }

        deinit {
            for index in 0...mask { (counters + index * Self.stride).deinitialize(count: 1) }
            UnsafeMutableRawPointer(counters).deallocate()
        }

        /// Bytes the counters take.
        var byteCount: Int { (mask + 1) * 128 }

        /// The calling CPU's next turn.
        @usableFromInline
        func take() -> UInt64 {
            take(onCPU: beacon_current_cpu())
        }

        /// The next turn of the counter CPU `cpu` uses.
        func take(onCPU cpu: UInt32) -> UInt64 {
            (counters + (Int(cpu) & mask) * Self.stride).pointee.wrappingAdd(1, ordering: .relaxed).oldValue
        }

        /// How many counters there are: the counts of members differ by at most this.
        var counterCount: Int { mask + 1 }

        /// Every turn taken so far, on every CPU (each counter minus where it started).
        func taken() -> UInt64 {
            var total: UInt64 = 0
            for index in 0...mask {
                let start = UInt64(index) * 2_654_435_761
                total &+= (counters + index * Self.stride).pointee.load(ordering: .relaxed) &- start
            }
            return total
        }
    }

    @usableFromInline let table: MemberTable
    @usableFromInline let turn: Turn

    /// The members, by index.
    ///
    /// - Complexity: O(1): the stored array is returned, not copied.
    public var members: [PlacementMember] { table.members }
    /// How keys and member names are hashed.
    ///
    /// - Complexity: O(1).
    public var keyHasher: KeyHasher { table.hasher }
    /// The turn counters: 128 bytes for each of them (the system's CPUs rounded up to a power of
    /// two).
    ///
    /// - Complexity: O(1).
    public var tableBytes: Int { turn.byteCount }

    /// Lookups made so far through this placer and every placer derived from it.
    ///
    /// - Complexity: O(c) for the c CPUs of the system.
    public var turnsTaken: UInt64 { turn.taken() }

    /// Creates a round-robin placer over `members`.
    ///
    /// - Complexity: O(n) expected for n members (each name is hashed and indexed once); O(n²) at
    ///   worst if the name index's hashing degenerates.
    public init(members: [PlacementMember], keyHasher: KeyHasher = .default) throws(PlacementError) {
        let table = try MemberTable(members, hasher: keyHasher)
        try table.requireUniformWeights(placer: Self.algorithmName)
        self.init(validated: table, turn: Turn())
    }

    init(validated table: MemberTable, turn: Turn) {
        self.table = table
        self.turn = turn
    }

    /// The next member in turn; `hash` is ignored.
    ///
    /// - Complexity: O(1): one read of the current CPU and one atomic increment of its counter.
    @inlinable
    public func memberIndex(forHash hash: UInt64) throws(PlacementError) -> Int {
        let count = table.count
        guard count > 0 else { throw .noMembers }
        return Int(turn.take() % UInt64(count))
    }

    /// A placer with `member` appended; it keeps the same turn counter.
    ///
    /// - Complexity: O(n) for n members: the member list and its name index are copied.
    public func adding(_ member: PlacementMember) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.append(member)
        try table.requireUniformWeights(placer: Self.algorithmName)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    /// A placer without the member named `name`; it keeps the same turn counter.
    ///
    /// - Complexity: O(n) for n members: the member list is copied and the members after the
    ///   removed one are re-indexed.
    public func removing(_ name: String) throws(PlacementError) -> RoundRobinPlacer {
        var table = table
        try table.remove(named: name)
        return RoundRobinPlacer(validated: table, turn: turn)
    }

    /// This placer unchanged if `weight` is 1; round robin has no weights.
    ///
    /// - Complexity: O(1) expected: one lookup of the name; no copy.
    public func reweighting(_ name: String, to weight: Double) throws(PlacementError) -> RoundRobinPlacer {
        try table.requireUnitReweight(named: name, to: weight, placer: Self.algorithmName)
        return self
    }
}
