public import Synchronization

/// One node's 16 bytes in the wheel's arena. Four records share a cache line, so a beat touches
/// exactly one line of node memory.
@usableFromInline
struct HeartbeatRecord: ~Copyable {
    /// `[generation tag: 16 bits | deadline: 48 bits]`, the deadline in microseconds since the
    /// wheel's epoch. Beats store it; the wheel reads it when the node's slot comes due. The tag is
    /// the low 16 bits of the generation that wrote it, so a write through a stale handle that
    /// raced a slot's reuse is recognisable (see `HeartbeatWheel.repairClobberedDeadline`).
    @usableFromInline let deadline: Atomic<UInt64>
    /// `[generation: 30 bits | phase: 2 bits]`. Changed by `register` (under the registry lock),
    /// by `remove` (armed → removed, a compare-and-swap) and by the wheel (armed → expired, a
    /// compare-and-swap). The two compare-and-swaps are what make "removed" and "expired"
    /// mutually exclusive.
    @usableFromInline let state: Atomic<UInt32>
    /// The next record in whichever list holds this one: a wheel slot, the pending registrations
    /// or the free list. Never read concurrently: each list has one owner at a time, handed over
    /// under the registry lock.
    @usableFromInline var link: UInt32

    init() {
        deadline = Atomic(0)
        state = Atomic(HeartbeatRecord.free)
        link = HeartbeatRecord.none
    }

    /// The end of a list.
    @inlinable static var none: UInt32 { UInt32.max }

    @inlinable static var free: UInt32 { 0 }
    @inlinable static var armed: UInt32 { 1 }
    @inlinable static var expired: UInt32 { 2 }
    @inlinable static var removed: UInt32 { 3 }
    @inlinable static var phaseMask: UInt32 { 3 }
    @inlinable static var generationMask: UInt32 { (1 << 30) - 1 }

    @inlinable static var deadlineMask: UInt64 { (1 << 48) - 1 }

    @inlinable @inline(__always)
    static func state(generation: UInt32, phase: UInt32) -> UInt32 {
        generation << 2 | phase
    }

    @inlinable @inline(__always)
    static func deadlineWord(generation: UInt32, deadline: UInt64) -> UInt64 {
        UInt64(generation & 0xFFFF) << 48 | deadline
    }
}

/// The words every beat reads, on a cache line of their own so that registry and wheel traffic
/// does not evict them: written at most once per clock refresh or per first use of a slot.
@usableFromInline
struct BeatClockLine: ~Copyable {
    /// The wheel's cached time in microseconds since its epoch, or `withdrawn`.
    @usableFromInline let cachedMicros: Atomic<UInt64>
    /// Set by beats, taken by the driver: were there beats since the last refresh?
    @usableFromInline let used: Atomic<Bool>
    /// How many arena records have ever been initialised; a handle at or above it is foreign.
    @usableFromInline let highWater: Atomic<UInt32>

    @inlinable static var withdrawn: UInt64 { UInt64.max }

    /// Notes that a beat read the time. Read-mostly: the flag is stored only when not already
    /// set, so beats leave the line shared between the cores instead of pulling it back and
    /// forth with a store each.
    @inlinable @inline(__always)
    func markUsed() {
        if !used.load(ordering: .relaxed) { used.store(true, ordering: .relaxed) }
    }

    init() {
        cachedMicros = Atomic(BeatClockLine.withdrawn)
        used = Atomic(false)
        highWater = Atomic(0)
    }
}
