import PropertyBased
import Testing

@testable import BeaconCore

/// Task-diff invariants over random sets and random change streams.
@Suite struct TaskDiffPropertyTests {
    static let assignmentGen = PropertyBased.zip(
        Gen.int(in: 0...3), Gen.int(in: 0...200), Gen.int(in: 0...3), Gen.uint8().array(of: 0...40)
    )
    .map { kind, id, version, payload in
        Assignment(
            key: key(UInt64(id), AssignmentKind(rawValue: UInt8(kind))), version: UInt64(version), payload: payload)
    }

    static func set(_ items: [Assignment]) throws -> AssignmentSet {
        var unique: [AssignmentKey: Assignment] = [:]
        for item in items { unique[item.key] = item }
        return try AssignmentSet(unique.values)
    }

    @Test func applyingTheDiffGivesTheNewSet() async {
        await propertyCheck(
            count: 300, input: Self.assignmentGen.array(of: 0...120), Self.assignmentGen.array(of: 0...120)
        ) { first, second in
            let a = try Self.set(first)
            let b = try Self.set(second + first.prefix(first.count / 2))
            let diff = AssignmentDiff(from: a, to: b)
            #expect(try a.applying(diff) == b)
            #expect(AssignmentDiff(from: a, to: a).isEmpty)
            #expect(diff.count <= a.count + b.count)
        }
    }

    @Test func encodedDiffsFitTheBudgetAndDecodeToTheNewSet() async {
        await propertyCheck(
            count: 200, input: Self.assignmentGen.array(of: 0...120), Self.assignmentGen.array(of: 0...120),
            Gen.int(in: 128...2048)
        ) { first, second, budget in
            let a = try Self.set(first)
            let b = try Self.set(second)
            let encoder = try AssignmentEncoder(byteBudget: budget)
            var applier = AssignmentApplier(maximumMessageSize: budget)
            let complete = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: a), as: .complete, after: 0)
            let incremental = try encoder.encode(
                AssignmentDiff(from: a, to: b), as: .incremental, after: UInt64(complete.count))
            for message in complete + incremental {
                #expect(message.bytes.count <= budget)
                try applier.apply(bytes: message.bytes)
                if message.resultsIn == UInt64(complete.count) { #expect(applier.table.snapshot() == a) }
            }
            #expect(applier.table.snapshot() == b && applier.isSettled)
        }
    }

    /// Random change streams with random flush points: whatever the interleaving, the receiver
    /// ends with the batcher's set (the harness checks each step against a dictionary model).
    @Test func batcherOutputAppliedInOrderGivesTheFinalState() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 1...800)) { bytes in
            let failure = ([UInt8(2)] + bytes).withUnsafeBytes { DiffFuzzHarness.run($0) }
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    @Test func roundTripHarnessHoldsOnRandomInput() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 1...800)) { bytes in
            let failure = ([UInt8(1)] + bytes).withUnsafeBytes { DiffFuzzHarness.run($0) }
            #expect(failure == nil, "\(failure ?? "")")
        }
    }

    /// Arbitrary bytes never trap the decoder or the applier.
    @Test func arbitraryBytesAreRefusedCleanly() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...600)) { bytes in
            let failure = ([UInt8(0)] + bytes).withUnsafeBytes { DiffFuzzHarness.run($0) }
            #expect(failure == nil, "\(failure ?? "")")
        }
    }
}
