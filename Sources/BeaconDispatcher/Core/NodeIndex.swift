/// Which wheel slot holds each registered node: an open-addressing table of 4-byte slot numbers,
/// probed by the node id's fingerprint.
///
/// A `[NodeID: UInt32]` dictionary spends 28 bytes per bucket (the id's string, its fingerprint
/// and the value) at up to 75 % load; this table spends 4 bytes per bucket at up to 50 %, because
/// the ids already live in the registrations, where a probe confirms them.
struct NodeIndex {
    private static let empty = UInt32.max
    private var buckets: [UInt32] = Array(repeating: NodeIndex.empty, count: 16)
    private(set) var count = 0

    private var mask: Int { buckets.count - 1 }

    /// The slot of `node`; `nodeAt` reads the id registered in a slot.
    func slot(of node: NodeID, nodeAt: (UInt32) -> NodeID?) -> UInt32? {
        var position = Int(truncatingIfNeeded: node.fingerprint) & mask
        while true {
            let slot = buckets[position]
            if slot == Self.empty { return nil }
            if nodeAt(slot) == node { return slot }
            position = (position + 1) & mask
        }
    }

    /// Records that `node` is in `slot`; the node must not be in the table.
    mutating func insert(_ node: NodeID, slot: UInt32, nodeAt: (UInt32) -> NodeID?) {
        if (count + 1) * 2 > buckets.count { grow(nodeAt: nodeAt) }
        place(slot, fingerprint: node.fingerprint)
        count += 1
    }

    /// Removes `node`, closing the gap so that later probes still find their entries.
    mutating func remove(_ node: NodeID, nodeAt: (UInt32) -> NodeID?) {
        var position = Int(truncatingIfNeeded: node.fingerprint) & mask
        while true {
            let slot = buckets[position]
            if slot == Self.empty { return }
            if nodeAt(slot) == node { break }
            position = (position + 1) & mask
        }
        buckets[position] = Self.empty
        count -= 1
        // Backward-shift deletion: move up each entry of the run that would otherwise be cut off.
        var next = (position + 1) & mask
        while buckets[next] != Self.empty {
            let slot = buckets[next]
            buckets[next] = Self.empty
            if let id = nodeAt(slot) { place(slot, fingerprint: id.fingerprint) }
            next = (next + 1) & mask
        }
    }

    mutating func removeAll() {
        buckets = Array(repeating: Self.empty, count: 16)
        count = 0
    }

    private mutating func place(_ slot: UInt32, fingerprint: UInt64) {
        var position = Int(truncatingIfNeeded: fingerprint) & mask
        while buckets[position] != Self.empty { position = (position + 1) & mask }
        buckets[position] = slot
    }

    private mutating func grow(nodeAt: (UInt32) -> NodeID?) {
        let old = buckets
        buckets = Array(repeating: Self.empty, count: old.count * 2)
        for slot in old where slot != Self.empty {
            if let id = nodeAt(slot) { place(slot, fingerprint: id.fingerprint) }
        }
    }
}
