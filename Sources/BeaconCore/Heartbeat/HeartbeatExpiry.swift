/// The nodes whose deadlines passed in one wheel slot, delivered together so the consumer can
/// coalesce its writes (mark them down in one store transaction, one log line).
public struct HeartbeatExpiry: Sendable {
    /// The end of the slot: every node here had a deadline before it, and the wheel swept the slot
    /// at or after it.
    public let slotEnd: BeaconInstant
    /// The expired nodes' handles. Their records are already free for reuse; the handles stay
    /// distinguishable from any new node's by their generation.
    public let handles: [HeartbeatHandle]
}

/// Counters the wheel's owner keeps; read them between calls to `advance`.
public struct HeartbeatWheelStatistics: Sendable, Hashable {
    /// Nodes delivered as expired.
    public var expired = 0
    /// Nodes found beaten when their slot came due, and filed again under the later deadline.
    public var refiled = 0
    /// Nodes found beaten before their slot came due, while `advance` looked ahead for the next
    /// slot where a node may expire, and filed again under the later deadline.
    public var refiledAhead = 0
    /// Slots swept (occupied slots that came due).
    public var slotsSwept = 0
    /// Records recycled after a removal.
    public var recycledRemovals = 0
    /// Stalls detected by the stall guard.
    public var stalls = 0
    /// Deadlines found written through a stale handle and repaired (a rare race; see docs).
    public var repairedDeadlines = 0
}

/// The stall guard's grace: deadlines before `endMicros` count as `amountMicros` later.
struct StallLeniency {
    var amountMicros: UInt64 = 0
    var endMicros: UInt64 = 0

    func grace(for deadline: UInt64) -> UInt64 {
        deadline < endMicros ? amountMicros : 0
    }

    mutating func add(stallMicros: UInt64, until end: UInt64, now: UInt64) {
        let active = now < endMicros
        amountMicros = active ? max(amountMicros, stallMicros) : stallMicros
        endMicros = max(endMicros, end)
    }
}

/// Records freed during one `advance`, returned to the registry's free list under one lock.
struct RecycledChain {
    var head = HeartbeatRecord.none
    var tail = HeartbeatRecord.none
    var removals = 0
}
