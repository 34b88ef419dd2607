import Testing

@testable import BeaconCore

func key(_ id: UInt64, _ kind: AssignmentKind = .task) -> AssignmentKey {
    // Test ids are small; the throwing initializer is covered on its own below.
    AssignmentKey(packed: UInt64(kind.rawValue) << 56 | id)
}

func assignment(_ id: UInt64, _ version: UInt64, _ payload: String = "", kind: AssignmentKind = .task) -> Assignment {
    Assignment(key: key(id, kind), version: version, payload: Array(payload.utf8))
}

@Suite struct AssignmentSetTests {
    @Test func keysPackKindAboveID() throws {
        let secret = try AssignmentKey(.secret, id: 7)
        #expect(secret.kind == .secret && secret.id == 7)
        #expect(try AssignmentKey(.task, id: AssignmentKey.maximumID) < secret, "keys sort by kind first")
        #expect(throws: TaskDiffError.idOutOfRange(1 << 56)) { try AssignmentKey(.task, id: 1 << 56) }
        #expect(AssignmentKey(packed: .max).kind == AssignmentKind(rawValue: 255))
    }

    @Test func setsSortTheirInputAndRefuseDuplicates() throws {
        let set = try AssignmentSet([
            assignment(3, 1, "c"), assignment(1, 1, "a"), assignment(2, 5, "b", kind: .secret),
        ])
        #expect(set.map(\.key) == [key(1), key(3), key(2, .secret)])
        #expect(set[key(3)] == assignment(3, 1, "c"))
        #expect(set[key(4)] == nil)
        #expect(set.payloadByteCount == 3)
        #expect(throws: TaskDiffError.duplicateKey(key(1))) {
            try AssignmentSet([assignment(1, 1), assignment(2, 1), assignment(1, 2)])
        }
    }

    @Test func equalContentsGiveEqualSetsWhateverTheInputOrder() throws {
        let items = (0..<50).map { assignment(UInt64($0 * 7 % 50), UInt64($0), "payload \($0)") }
        let forward = try AssignmentSet(items)
        let backward = try AssignmentSet(items.reversed())
        #expect(forward == backward)
        #expect(forward.digest == backward.digest)
        #expect(forward.digest != AssignmentSet().digest)
    }

    @Test func diffListsUpsertsAndRemovalsInKeyOrder() throws {
        let old = try AssignmentSet([assignment(1, 1, "a"), assignment(2, 1, "b"), assignment(3, 1, "c")])
        let new = try AssignmentSet([assignment(2, 2, "b2"), assignment(3, 1, "c"), assignment(4, 1, "d")])
        let diff = AssignmentDiff(from: old, to: new)
        #expect(diff.allChanges == [.removal(key(1)), .upsert(assignment(2, 2, "b2")), .upsert(assignment(4, 1, "d"))])
        #expect(diff.upsertCount == 2 && diff.removalCount == 1)
        #expect(try old.applying(diff) == new)
    }

    @Test func samePayloadAndVersionIsUnchangedButANewPayloadIsAChange() throws {
        let old = try AssignmentSet([assignment(1, 1, "a")])
        #expect(AssignmentDiff(from: old, to: old).isEmpty)
        let rewritten = try AssignmentSet([assignment(1, 1, "z")])
        #expect(AssignmentDiff(from: old, to: rewritten).allChanges == [.upsert(assignment(1, 1, "z"))])
    }

    @Test func aDiffRefusesASetItWasNotComputedFrom() throws {
        let a = try AssignmentSet([assignment(1, 1)])
        let b = try AssignmentSet([assignment(2, 1)])
        let diff = AssignmentDiff(from: a, to: b)
        #expect(throws: TaskDiffError.baseMismatch(expectedDigest: a.digest, actualDigest: b.digest)) {
            try b.applying(diff)
        }
    }

    @Test func recomputingReusesTheDiff() throws {
        let a = try AssignmentSet((0..<100).map { assignment(UInt64($0), 1, "x") })
        let b = try AssignmentSet((0..<100).map { assignment(UInt64($0), $0 % 10 == 0 ? 2 : 1, "x") })
        var diff = AssignmentDiff(from: a, to: b)
        #expect(diff.count == 10)
        diff.recompute(from: b, to: a)
        #expect(diff.count == 10)
        #expect(try b.applying(diff) == a)
    }

    @Test func tablesTrackTheirDigestAndCompactTheirArena() throws {
        var table = AssignmentTable()
        let big = [UInt8](repeating: 7, count: 40_000)
        for round in 0..<20 {
            for id in 0..<4 { try table.upsert(key(UInt64(id)), version: UInt64(round), payload: big) }
        }
        #expect(table.count == 4 && table.payloadByteCount == 160_000)
        #expect(table.digest == table.snapshot().digest)
        #expect(
            try table.upsert(key(1), version: 19, payload: big) == false, "the same version and payload is no change")
        #expect(table.remove(key(1)) && !table.remove(key(1)))
        #expect(table[key(2)]?.payload == big)
        #expect(AssignmentTable(table.snapshot()) == table)
    }
}
