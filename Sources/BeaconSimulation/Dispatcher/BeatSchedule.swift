/// Agents due to beat, by millisecond, in a ring longer than the longest period.
struct BeatSchedule {
    private var ring: [[Int32]]

    init(slots: Int = 8192) {
        ring = Array(repeating: [], count: slots)
    }

    mutating func schedule(_ agent: Int, atMillisecond millisecond: Int) {
        ring[millisecond % ring.count].append(Int32(agent))
    }

    /// The agents due at `millisecond`, removed from the ring.
    mutating func take(_ millisecond: Int, into buffer: inout [Int32]) {
        buffer.removeAll(keepingCapacity: true)
        swap(&buffer, &ring[millisecond % ring.count])
    }
}
