extension BoundedLoadTable {
    /// Checks the table's invariants: slot counts match the owners, every member owns at least one
    /// slot and at most `max(1, ⌈fair share⌉)`, and the table has enough slots. A no-op unless
    /// compiled with `BEACON_INVARIANTS` (debug builds).
    @inline(__always)
    func checkInvariants() {
        #if BEACON_INVARIANTS
        guard table.count > 0 else {
            precondition(slots.count == 0 && slotCounts.isEmpty, "empty table holds slots")
            return
        }
        let owners = slots.expanded()
        var counted = [Int](repeating: 0, count: table.count)
        for owner in owners {
            precondition(owner >= 0 && Int(owner) < table.count, "slot owner \(owner) out of range")
            counted[Int(owner)] += 1
        }
        precondition(counted == slotCounts, "slot counts out of sync")
        let caps = Self.caps(Self.fairShares(table, slotCount: owners.count))
        for i in counted.indices {
            precondition(counted[i] >= 1, "member \(i) owns no slot")
            precondition(counted[i] <= caps[i], "member \(i) owns \(counted[i]) slots, above its cap \(caps[i])")
        }
        precondition(owners.count >= Self.minimumSlotsPerMember * table.count, "too few slots per member")
        #endif
    }
}
