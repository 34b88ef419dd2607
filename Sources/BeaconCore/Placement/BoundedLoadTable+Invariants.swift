extension BoundedLoadTable {
    /// Checks the table's invariants in builds compiled with `BEACON_INVARIANTS` (debug builds),
    /// after every change; a no-op otherwise.
    @inline(__always)
    func checkInvariants() {
        #if BEACON_INVARIANTS
        if let violation = invariantViolation() { preconditionFailure(violation) }
        #endif
    }

    /// Walks every slot and describes the first broken invariant, or returns nil: slot counts
    /// match the owners, every member owns at least one slot and at most `max(1, ⌈fair share⌉)`,
    /// and the table has enough slots.
    ///
    /// It costs a pass over the whole table, so optimised builds never run it on their own; the
    /// fuzzer calls it once per input, after the cheap per-step checks.
    package func invariantViolation() -> String? {
        guard table.count > 0 else {
            return slots.count == 0 && slotCounts.isEmpty ? nil : "empty table holds slots"
        }
        let owners = slots.expanded()
        var counted = [Int](repeating: 0, count: table.count)
        for owner in owners {
            guard owner >= 0 && Int(owner) < table.count else { return "slot owner \(owner) out of range" }
            counted[Int(owner)] += 1
        }
        guard counted == slotCounts else { return "slot counts out of sync" }
        let caps = Self.caps(Self.fairShares(table, slotCount: owners.count))
        for i in counted.indices {
            guard counted[i] >= 1 else { return "member \(i) owns no slot" }
            guard counted[i] <= caps[i] else { return "member \(i) owns \(counted[i]) slots, above its cap \(caps[i])" }
        }
        guard owners.count >= Self.minimumSlotsPerMember * table.count else { return "too few slots per member" }
        return nil
    }
}
