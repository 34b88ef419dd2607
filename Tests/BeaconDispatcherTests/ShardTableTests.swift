import BeaconCore
import PropertyBased
import Testing

@testable import BeaconDispatcher

/// The table several managers share: bounded load, the fewest moves on a membership change, and
/// the same owners in every process that restores it.
@Suite struct ShardTableTests {
    static func managers(_ count: Int, from first: Int = 1) -> [WeightedManager] {
        (first..<(first + count)).map { WeightedManager(nodeID: "m\($0)", address: "10.0.0.\($0):4242") }
    }

    static let nodes = (0..<30_000).map { nodeID("node-\($0)") }

    static func owners(_ table: ShardTable) -> [String?] {
        nodes.map { table.owner(of: $0)?.nodeID }
    }

    @Test func threeManagersEachHoldAThirdAndAFourthMovesNoMoreThanItsShare() throws {
        let three = try ShardTable.none.following(Self.managers(3))
        let before = Self.owners(three)
        for manager in three.managers {
            let held = before.count { $0 == manager.nodeID }
            // Within ±10 % of a third.
            #expect(abs(Double(held) - 10_000) <= 1_000, "\(manager.nodeID) holds \(held)")
        }
        let four = try three.following(Self.managers(4))
        let after = Self.owners(four)
        let moved = zip(before, after).count { $0 != $1 }
        // Ideal: a quarter of the nodes, all of them to the newcomer.
        #expect(Double(moved) <= 1.1 * 7_500, "moved \(moved)")
        #expect(zip(before, after).allSatisfy { $0 == $1 || $1 == "m4" })
    }

    @Test func aLeaverHandsOutOnlyItsOwnNodes() throws {
        let four = try ShardTable.none.following(Self.managers(4))
        let before = Self.owners(four)
        let three = try four.following(Self.managers(4).filter { $0.nodeID != "m2" })
        let after = Self.owners(three)
        #expect(zip(before, after).allSatisfy { $0 == $1 || $0 == "m2" })
        #expect(!after.contains("m2"))
    }

    @Test func everyProcessRestoringTheSlotsFindsTheSameOwners() throws {
        // A history a fresh build would not reproduce: m2 leaves after m4 joined.
        let table = try ShardTable.none.following(Self.managers(3)).following(Self.managers(4))
            .following(Self.managers(4).filter { $0.nodeID != "m2" })
        let restored = try ShardTable(managers: table.managers, slotOwners: table.slotOwners)
        #expect(restored == table)
        #expect(Self.owners(restored) == Self.owners(table))
        #expect(try ShardTable(managers: table.managers) != table)
    }

    @Test func aChangedAddressMovesNothing() throws {
        let table = try ShardTable.none.following(Self.managers(3))
        var moved = Self.managers(3)
        moved[1].address = "10.0.1.2:4242"
        let readdressed = try table.following(moved)
        #expect(readdressed.slotOwners == table.slotOwners)
        #expect(readdressed.managers.first { $0.nodeID == "m2" }?.address == "10.0.1.2:4242")
    }

    @Test func badInputIsRefusedWithAReason() {
        let table = try? ShardTable.none.following(Self.managers(2))
        #expect(throws: DispatcherError.self) { try ShardTable(managers: Self.managers(2), slotOwners: [0, 1, 2]) }
        // Every slot to one manager breaks the other's share.
        #expect(throws: DispatcherError.self) {
            try ShardTable(
                managers: Self.managers(2), slotOwners: Array(repeating: 0, count: table?.slotOwners.count ?? 0))
        }
        #expect(throws: DispatcherError.invalidArgument("manager id m1 appears twice")) {
            try ShardTable.none.following(Self.managers(1) + Self.managers(1))
        }
        #expect(throws: DispatcherError.invalidArgument("a manager id must not be empty")) {
            try ShardTable(managers: [WeightedManager(nodeID: "", address: "x")])
        }
        #expect(ShardTable.none.owner(of: nodeID("n")) == nil)
        #expect((try? ShardTable.none.following([])) == ShardTable.none)
    }

    /// Any sequence of joins and leaves: no manager above its cap, and each step moves only the
    /// slots the change must move (a joiner's share, or a leaver's own slots).
    @Test func membershipChangesKeepTheBoundAndMoveOnlyWhatTheyMust() async {
        // Each step toggles one of eight managers in or out.
        await propertyCheck(count: 80, input: Gen.int(in: 1...8).array(of: 1...20)) { toggles in
            var live: [WeightedManager] = []
            var table = ShardTable.none
            for id in toggles {
                let manager = WeightedManager(nodeID: "m\(id)", address: "a\(id)")
                let joining = !live.contains(manager)
                if joining { live.append(manager) } else { live.removeAll { $0 == manager } }
                guard let next = try? table.following(live) else {
                    Issue.record("following refused \(live)")
                    return
                }
                #expect(Self.violation(moving: table, to: next, changed: manager.nodeID, joining: joining) == nil)
                table = next
            }
        }
    }

    /// The first broken rule of one step, or nil.
    static func violation(moving old: ShardTable, to new: ShardTable, changed: String, joining: Bool) -> String? {
        let counts = new.slotsPerManager
        let cap = new.managers.isEmpty ? 0 : (new.slotOwners.count + new.managers.count - 1) / new.managers.count
        if let over = counts.firstIndex(where: { $0 > cap }) { return "\(new.managers[over].nodeID) above cap" }
        guard !old.managers.isEmpty, !new.managers.isEmpty else { return nil }
        // Compare owners slot by slot at the finer of the two resolutions (a table may double).
        let (oldSlots, newSlots) = (old.slotOwners, new.slotOwners)
        let resolution = max(oldSlots.count, newSlots.count)
        for slot in 0..<resolution {
            let was = old.managers[oldSlots[slot * oldSlots.count / resolution]].nodeID
            let now = new.managers[newSlots[slot * newSlots.count / resolution]].nodeID
            guard was != now else { continue }
            if joining, now != changed { return "slot \(slot) moved \(was) → \(now) on \(changed) joining" }
            if !joining, was != changed { return "slot \(slot) moved \(was) → \(now) on \(changed) leaving" }
        }
        return nil
    }
}
