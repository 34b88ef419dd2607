/// One bit per wheel slot saying "this slot holds nodes", with a summary bit per 64 slots, so the
/// wheel finds its next occupied slot in a few word scans and can sleep until then.
struct OccupancyBitmap: ~Copyable {
    private let leaves: UnsafeMutablePointer<UInt64>
    private let summary: UnsafeMutablePointer<UInt64>
    private let leafCount: Int
    private let summaryCount: Int

    /// A bitmap of `slotCount` bits, a power of two and at least 64.
    init(slotCount: Int) {
        leafCount = slotCount / 64
        summaryCount = (leafCount + 63) / 64
        leaves = .allocate(capacity: leafCount)
        leaves.initialize(repeating: 0, count: leafCount)
        summary = .allocate(capacity: summaryCount)
        summary.initialize(repeating: 0, count: summaryCount)
    }

    deinit {
        leaves.deallocate()
        summary.deallocate()
    }

    func set(_ slot: Int) {
        let leaf = slot >> 6
        leaves[leaf] |= 1 << UInt64(slot & 63)
        summary[leaf >> 6] |= 1 << UInt64(leaf & 63)
    }

    func clear(_ slot: Int) {
        let leaf = slot >> 6
        leaves[leaf] &= ~(1 << UInt64(slot & 63))
        if leaves[leaf] == 0 {
            summary[leaf >> 6] &= ~(1 << UInt64(leaf & 63))
        }
    }

    func isOccupied(_ slot: Int) -> Bool {
        leaves[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    /// The first occupied slot at or after `start`, wrapping around the end; nil if none is.
    func nextOccupied(from start: Int) -> Int? {
        let startLeaf = start >> 6
        let ahead = leaves[startLeaf] & (~0 << UInt64(start & 63))
        if ahead != 0 { return startLeaf << 6 | ahead.trailingZeroBitCount }
        if let leaf = firstOccupiedLeaf(in: (startLeaf + 1)..<leafCount) ?? firstOccupiedLeaf(in: 0..<startLeaf) {
            return leaf << 6 | leaves[leaf].trailingZeroBitCount
        }
        // Only the bits before `start` in the starting word are left: the wrap-around case.
        let behind = leaves[startLeaf]
        return behind != 0 ? startLeaf << 6 | behind.trailingZeroBitCount : nil
    }

    private func firstOccupiedLeaf(in range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        var word = range.lowerBound >> 6
        var bits = summary[word] & (~0 << UInt64(range.lowerBound & 63))
        while true {
            if bits != 0 {
                let leaf = word << 6 | bits.trailingZeroBitCount
                return leaf < range.upperBound ? leaf : nil
            }
            word += 1
            guard word < summaryCount, word << 6 < range.upperBound else { return nil }
            bits = summary[word]
        }
    }
}
