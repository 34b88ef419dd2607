import Testing

@testable import BeaconCore

@Suite struct AssignmentWireTests {
    static func sampleSet(_ count: Int, payload: Int = 20) throws -> AssignmentSet {
        try AssignmentSet(
            (0..<count).map {
                Assignment(
                    key: key(UInt64($0 * 3)), version: UInt64($0),
                    payload: [UInt8](repeating: UInt8($0 & 0xFF), count: payload))
            })
    }

    @Test func aSmallDiffEncodesDecodesAndApplies() throws {
        let old = try Self.sampleSet(10)
        var changed = Array(old)
        changed[4].version = 99
        changed.remove(at: 7)
        let new = try AssignmentSet(changed + [assignment(1000, 1, "new", kind: .config)])
        let encoder = try AssignmentEncoder()
        let complete = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: old), as: .complete, after: 0)
        let diff = AssignmentDiff(from: old, to: new)
        let incremental = try encoder.encode(diff, as: .incremental, after: 1)
        #expect(complete.count == 1 && incremental.count == 1)
        let message = try AssignmentMessage(decoding: incremental[0].bytes)
        #expect(message == incremental[0])
        #expect(message.kind == .incremental && message.appliesTo == 1 && message.resultsIn == 2 && message.isFinalPart)
        #expect(message.changes == diff.allChanges)
        #expect(message.stateDigest == new.digest)

        var applier = AssignmentApplier()
        try applier.apply(bytes: complete[0].bytes)
        #expect(applier.table.snapshot() == old && applier.isSettled)
        try applier.apply(bytes: incremental[0].bytes)
        #expect(applier.table.snapshot() == new)
    }

    @Test func anEmptyIncrementalSendsNothingButAnEmptyCompleteIsOneMessage() throws {
        let encoder = try AssignmentEncoder()
        let set = try Self.sampleSet(3)
        #expect(try encoder.encode(AssignmentDiff(from: set, to: set), as: .incremental, after: 5).isEmpty)
        let empty = try encoder.encode(AssignmentDiff(), as: .complete, after: 0)
        #expect(
            empty.count == 1 && empty[0].changeCount == 0 && empty[0].bytes.count == AssignmentWireFormat.headerSize)
        #expect(throws: TaskDiffError.completeNeedsEmptyBase(baseCount: 3)) {
            try encoder.encode(AssignmentDiff(from: set, to: set), as: .complete, after: 0)
        }
    }

    @Test func aLargeCompleteSetSplitsUnderTheBudgetAndEachPartStandsAlone() throws {
        let set = try Self.sampleSet(500, payload: 100)
        let encoder = try AssignmentEncoder(byteBudget: 4096)
        let messages = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: set), as: .complete, after: 0)
        #expect(messages.count > 10)
        #expect(messages.allSatisfy { $0.bytes.count <= 4096 })
        #expect(messages.first?.kind == .complete)
        #expect(messages.dropFirst().allSatisfy { $0.kind == .incremental })
        #expect(messages.map(\.isFinalPart) == Array(repeating: false, count: messages.count - 1) + [true])
        #expect(messages.map(\.resultsIn) == Array(1...UInt64(messages.count)))
        var applier = AssignmentApplier(maximumMessageSize: 4096)
        for (index, message) in messages.enumerated() {
            try applier.apply(bytes: message.bytes)
            #expect(applier.isSettled == (index == messages.count - 1))
        }
        #expect(applier.table.snapshot() == set)
        // A part decodes on its own: its first key is written whole, not as a delta.
        let middle = try AssignmentMessage(decoding: messages[5].bytes, maximumSize: 4096)
        #expect(middle.changes.first?.key == messages[5].changes.first?.key)
    }

    @Test func budgetsAndPayloadsOutOfRangeAreRefused() throws {
        #expect(throws: TaskDiffError.self) { try AssignmentEncoder(byteBudget: 64) }
        #expect(throws: TaskDiffError.self) { try AssignmentEncoder(byteBudget: Int(UInt32.max) + 1) }
        let encoder = try AssignmentEncoder(byteBudget: 128)
        let fits = try AssignmentSet([
            Assignment(key: key(1), version: 1, payload: [UInt8](repeating: 0, count: encoder.maximumPayloadBytes))
        ])
        #expect(
            try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: fits), as: .complete, after: 0)[0].bytes.count
                <= 128)
        let tooBig = try AssignmentSet([Assignment(key: key(1), version: 1, payload: [UInt8](repeating: 0, count: 200))]
        )
        #expect(throws: TaskDiffError.payloadTooLarge(key: key(1), bytes: 200, limit: encoder.maximumPayloadBytes)) {
            try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: tooBig), as: .complete, after: 0)
        }
    }

    // MARK: Malformed input

    /// A valid INCREMENTAL message: upsert key 5 (version 1, payload "ab"), remove key 9.
    static func validIncremental() throws -> [UInt8] {
        let old = try AssignmentSet([assignment(9, 1)])
        let new = try AssignmentSet([assignment(5, 1, "ab")])
        return try AssignmentEncoder().encode(AssignmentDiff(from: old, to: new), as: .incremental, after: 3)[0].bytes
    }

    static func decodeError(_ bytes: [UInt8], maximumSize: Int = 1 << 20) -> AssignmentDecodingError? {
        do {
            _ = try AssignmentMessage(decoding: bytes, maximumSize: maximumSize)
            return nil
        } catch {
            return error
        }
    }

    @Test func theValidSampleDecodes() throws {
        let bytes = try Self.validIncremental()
        #expect(Self.decodeError(bytes) == nil)
        // header 36 | key 5, tag 3, version 1, "ab" | delta 4, tag 0
        #expect(Array(bytes[36...]) == [5, 3, 1, 0x61, 0x62, 4, 0])
    }

    @Test func headerDamageIsNamed() throws {
        let valid = try Self.validIncremental()
        func damaged(_ offset: Int, _ value: UInt8) -> [UInt8] {
            var bytes = valid
            bytes[offset] = value
            return bytes
        }
        #expect(Self.decodeError(Array(valid[..<20])) == .truncated(offset: 20, needed: "the 36-byte header"))
        #expect(Self.decodeError(valid, maximumSize: 40) == .oversized(bytes: valid.count, limit: 40))
        #expect(Self.decodeError(damaged(0, 0x41)) == .notAnAssignmentMessage)
        #expect(Self.decodeError(damaged(4, 2)) == .unsupportedVersion(2))
        #expect(Self.decodeError(damaged(5, 3)) == .unknownKind(3))
        #expect(Self.decodeError(damaged(6, 2)) == .reservedBitsSet(offset: 6))
        #expect(Self.decodeError(damaged(7, 1)) == .reservedBitsSet(offset: 7))
        #expect(Self.decodeError(damaged(8, 9)) == .invalidSequence(resultsIn: 9, appliesTo: 3))
        #expect(Self.decodeError(damaged(24, 200)) == .countExceedsBody(count: 200, bodyBytes: 7))
        #expect(Self.decodeError(damaged(24, 3)) == .truncated(offset: 43, needed: "a key"))
        #expect(Self.decodeError(damaged(24, 1)) == .trailingBytes(count: 2))
        // A COMPLETE message may not remove anything.
        var complete = damaged(5, 1)
        complete[16] = 0
        #expect(Self.decodeError(complete) == .removalInComplete(key(9)))
    }

    @Test func bodyDamageIsNamed() throws {
        let valid = try Self.validIncremental()
        let header = Array(valid[..<36])
        func body(_ bytes: [UInt8], count: UInt8 = 2) -> [UInt8] {
            var message = header + bytes
            message[24] = count
            return message
        }
        #expect(Self.decodeError(body([5, 3, 1, 0x61, 0x62, 0, 0])) == .duplicateKey(key(5), offset: 41))
        #expect(
            Self.decodeError(body([5, 9, 1, 0x61, 0x62, 4, 0]))
                == .truncated(offset: 39, needed: "a payload of 8 bytes"))
        #expect(
            Self.decodeError(body([0x85, 0x00, 3, 1, 0x61, 0x62], count: 1)) == .malformedVarint(offset: 36),
            "non-minimal varint")
        #expect(Self.decodeError(body([5, 3, 0x81], count: 1)) == .truncated(offset: 38, needed: "a version"))
        let elevenBytes = [UInt8](repeating: 0xFF, count: 10) + [0x01]
        #expect(Self.decodeError(body(elevenBytes + [0], count: 1)) == .malformedVarint(offset: 36))
        let maximum: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        #expect(Self.decodeError(body(maximum + [0] + [1, 0])) == .keyOverflow(offset: 47))
    }

    @Test func theApplierRefusesGapsAndMismatchedDigestsUntilAComplete() throws {
        let batchOne = try AssignmentSet([assignment(1, 1, "a")])
        let batchTwo = try AssignmentSet([assignment(1, 2, "a"), assignment(2, 1, "b")])
        let encoder = try AssignmentEncoder()
        let complete = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: batchOne), as: .complete, after: 0)[
            0]
        let next = try encoder.encode(AssignmentDiff(from: batchOne, to: batchTwo), as: .incremental, after: 1)[0]
        let skipped = try encoder.encode(AssignmentDiff(from: batchOne, to: batchTwo), as: .incremental, after: 2)[0]

        var applier = AssignmentApplier()
        #expect(throws: AssignmentApplyError.awaitingComplete(resultsIn: 2)) { try applier.apply(next) }
        try applier.apply(complete)
        #expect(throws: AssignmentApplyError.sequenceGap(lastApplied: 1, appliesTo: 2)) { try applier.apply(skipped) }
        #expect(applier.needsComplete)
        #expect(applier.table.snapshot() == batchOne, "a refused message changes nothing")
        #expect(throws: AssignmentApplyError.awaitingComplete(resultsIn: 2)) { try applier.apply(next) }
        try applier.apply(complete)
        try applier.apply(next)
        #expect(applier.table.snapshot() == batchTwo && !applier.needsComplete)

        var tampered = next.bytes
        tampered[28] ^= 1
        var fresh = AssignmentApplier()
        try fresh.apply(complete)
        #expect(throws: AssignmentApplyError.self) { try fresh.apply(bytes: tampered) }
        #expect(fresh.needsComplete)

        var corrupt = next.bytes
        corrupt[corrupt.count - 1] ^= 0x20  // flips a payload byte: same structure, different set
        var other = AssignmentApplier()
        try other.apply(complete)
        #expect(
            throws: AssignmentApplyError.digestMismatch(
                expected: next.stateDigest, actual: digestAfterApplying(corrupt, to: batchOne))
        ) {
            try other.apply(bytes: corrupt)
        }
    }
}

/// The digest a receiver holding `base` reaches after applying `bytes` without any checks.
func digestAfterApplying(_ bytes: [UInt8], to base: AssignmentSet) -> UInt64 {
    var table = AssignmentTable(base)
    guard let message = try? AssignmentMessage(decoding: bytes) else { return 0 }
    for change in message.changes {
        switch change {
        case .upsert(let assignment):
            _ = try? table.upsert(assignment.key, version: assignment.version, payload: assignment.payload)
        case .removal(let key): table.remove(key)
        }
    }
    return table.digest
}
