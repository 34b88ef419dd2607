/// The shape of a ``HeartbeatWheel``: how fine its time slots are, how far ahead it files, how
/// many nodes it holds, and when it treats its own lateness as a stall.
public struct HeartbeatWheelConfiguration: Sendable, Hashable {
    /// The width of one time slot. Expiry is at most one slot late. 1–10 ms suits heartbeats;
    /// anything from 100 µs to 1 s is accepted.
    public var slotWidth: Duration
    /// The largest TTL a beat may ask for. The wheel's horizon (slot count × width) covers it, so
    /// no deadline has to be parked and re-checked in normal operation.
    public var maximumTTL: Duration
    /// How many nodes the arena holds. Memory is reserved up front but only touched as slots are
    /// first used (16 bytes per node).
    public var capacity: Int
    /// If the wheel is advanced this much later than its next slot was due (the process was
    /// paused, the machine overloaded), deadlines that passed meanwhile are extended by the length
    /// of the stall instead of expiring together. `nil` turns the guard off.
    public var stallThreshold: Duration?

    /// A configuration; see each property. `validated()` checks the values.
    ///
    /// - Complexity: O(1); the values are checked when a wheel is created.
    public init(
        slotWidth: Duration = .milliseconds(1),
        maximumTTL: Duration = .seconds(60),
        capacity: Int = 1 << 20,
        stallThreshold: Duration? = .seconds(1)
    ) {
        self.slotWidth = slotWidth
        self.maximumTTL = maximumTTL
        self.capacity = capacity
        self.stallThreshold = stallThreshold
    }

    static let slotWidthRange: ClosedRange<Duration> = .microseconds(100) ... .seconds(1)
    static let capacityRange: ClosedRange<Int> = 1...(1 << 28)
    static let maximumSlotCount = 1 << 22

    /// The validated numbers the wheel runs on.
    struct Resolved {
        var slotMicros: UInt64
        var slotCount: Int
        var maximumTTL: HeartbeatTTL
        var capacity: Int
        var stallThresholdMicros: UInt64?
    }

    func resolved() throws(HeartbeatError) -> Resolved {
        guard Self.slotWidthRange.contains(slotWidth) else {
            throw .invalidConfiguration("slotWidth \(slotWidth) is outside \(Self.slotWidthRange)")
        }
        guard Self.capacityRange.contains(capacity) else {
            throw .invalidConfiguration("capacity \(capacity) is outside \(Self.capacityRange)")
        }
        let maximum: HeartbeatTTL
        do {
            maximum = try HeartbeatTTL(maximumTTL)
        } catch {
            throw .invalidConfiguration("maximumTTL \(maximumTTL) must be positive and at most \(HeartbeatTTL.limit)")
        }
        let slotMicros = try HeartbeatTTL(slotWidth).microseconds
        // Two spare slots: one for the slot being swept, one for rounding the TTL up to a slot.
        let needed = (maximum.microseconds + slotMicros - 1) / slotMicros + 2
        guard needed <= UInt64(Self.maximumSlotCount) else {
            throw .invalidConfiguration(
                "maximumTTL \(maximumTTL) needs \(needed) slots of \(slotWidth); at most \(Self.maximumSlotCount) are allowed, so widen the slots or lower the maximum TTL"
            )
        }
        var slotCount = 64
        while slotCount < Int(needed) { slotCount <<= 1 }
        var stallMicros: UInt64?
        if let stallThreshold {
            guard stallThreshold > .zero else {
                throw .invalidConfiguration(
                    "stallThreshold \(stallThreshold) must be positive, or nil to turn the guard off")
            }
            stallMicros = UInt64(stallThreshold.microsecondsRoundedUp)
        }
        return Resolved(
            slotMicros: slotMicros, slotCount: slotCount, maximumTTL: maximum,
            capacity: capacity, stallThresholdMicros: stallMicros)
    }
}
