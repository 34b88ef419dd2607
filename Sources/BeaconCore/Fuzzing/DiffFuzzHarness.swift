/// The `DiffFuzz` libFuzzer target's logic. The first byte picks a mode:
///
/// 0. **Arbitrary bytes**: the rest is a list of length-prefixed messages fed to the decoder and
///    to an applier. Nothing may trap; whatever is accepted must be internally consistent.
/// 1. **Round trip**: two related sets and a byte budget are read from the input; the diff must
///    apply exactly, and its encoded messages must fit the budget, decode, and bring an applier
///    to the same set.
/// 2. **Batcher**: a sequence of upserts, removals, clock steps, flushes and gap reports drives
///    a batcher; every message must fit the budget and keep an applier equal to a dictionary model,
///    and the batching rules (what counts, when a flush is due) are checked at each step.
///
/// It lives in the library (with `package` access) so unit and property tests run committed
/// inputs and random ones through the same code. Not for use outside Beacon's tests and fuzzers.
package enum DiffFuzzHarness {
    /// Runs one input; returns a description of the first broken invariant, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var reader = FuzzByteReader(input)
        guard let mode = reader.next() else { return nil }
        do {
            switch mode % 3 {
            case 0: return decodeArbitrary(&reader)
            case 1: return try roundTrip(&reader)
            default: return try batcherSequence(&reader)
            }
        } catch {
            return "unexpected error: \(error)"
        }
    }

    // MARK: Arbitrary bytes

    static func decodeArbitrary(_ reader: inout FuzzByteReader) -> String? {
        var applier = AssignmentApplier(maximumMessageSize: 4096)
        while reader.offset < reader.input.count {
            let length = reader.byte() | reader.byte() << 8
            var bytes: [UInt8] = []
            while bytes.count < length, let byte = reader.next() { bytes.append(byte) }
            if let failure = checkDecoded(bytes) { return failure }
            let before = applier.table
            let lastApplied = applier.lastApplied
            do {
                let message = try applier.apply(bytes: bytes)
                if applier.table.digest != message.stateDigest {
                    return
                        "applied message left digest \(hex(applier.table.digest)), expected \(hex(message.stateDigest))"
                }
                if applier.lastApplied != message.resultsIn {
                    return "lastApplied not advanced to \(message.resultsIn)"
                }
            } catch {
                switch error {
                case .malformed:
                    if applier.table != before || applier.lastApplied != lastApplied {
                        return "a malformed message changed the applier"
                    }
                case .sequenceGap, .awaitingComplete:
                    if applier.table != before { return "a refused message changed the set" }
                    if !applier.needsComplete { return "a refused message did not ask for a COMPLETE set" }
                case .digestMismatch:
                    if !applier.needsComplete { return "a digest mismatch did not ask for a COMPLETE set" }
                }
            }
            if applier.table.snapshot().digest != applier.table.digest {
                return "the table's running digest drifted from its contents"
            }
        }
        return nil
    }

    /// Whatever the decoder accepts has the shape it announces.
    static func checkDecoded(_ bytes: [UInt8]) -> String? {
        guard let message = try? AssignmentMessage(decoding: bytes, maximumSize: 4096) else { return nil }
        let changes = message.changes
        if changes.count != message.changeCount {
            return "decoded \(changes.count) changes, header says \(message.changeCount)"
        }
        for (earlier, later) in zip(changes, changes.dropFirst()) where earlier.key >= later.key {
            return "decoded keys out of order: \(earlier.key) then \(later.key)"
        }
        if message.kind == .complete, changes.contains(where: { if case .removal = $0 { true } else { false } }) {
            return "a COMPLETE message decoded with a removal"
        }
        return nil
    }

    // MARK: Round trip

    static func roundTrip(_ reader: inout FuzzByteReader) throws -> String? {
        let budget = AssignmentEncoder.minimumByteBudget + reader.byte() * 4
        let encoder = try AssignmentEncoder(byteBudget: budget)
        var model: [AssignmentKey: Assignment] = [:]
        for _ in 0..<reader.byte() % 48 {
            let assignment = try randomAssignment(&reader)
            model[assignment.key] = assignment
        }
        let old = try AssignmentSet(model.values)
        for _ in 0..<reader.byte() % 32 {
            let op = reader.byte()
            if op % 3 == 0, let victim = pickKey(of: model, &reader) {
                model[victim] = nil
            } else {
                let assignment = try randomAssignment(&reader)
                model[assignment.key] = assignment
            }
        }
        let new = try AssignmentSet(model.values)
        let diff = AssignmentDiff(from: old, to: new)
        if try old.applying(diff) != new { return "applying the diff did not give the new set" }
        if !AssignmentDiff(from: new, to: new).isEmpty { return "the diff of a set with itself is not empty" }
        if diff.resultDigest != new.digest { return "the diff's result digest is not the new set's" }

        var applier = AssignmentApplier(maximumMessageSize: budget)
        let complete = try encoder.encode(AssignmentDiff(from: AssignmentSet(), to: old), as: .complete, after: 0)
        if let failure = try deliver(complete, to: &applier, budget: budget) { return failure }
        if applier.table.snapshot() != old { return "the COMPLETE messages did not rebuild the old set" }
        let incremental = try encoder.encode(diff, as: .incremental, after: applier.lastApplied ?? 0)
        if let failure = try deliver(incremental, to: &applier, budget: budget) { return failure }
        if applier.table.snapshot() != new { return "the INCREMENTAL messages did not give the new set" }
        let decoded = try incremental.flatMap { try AssignmentMessage(decoding: $0.bytes, maximumSize: budget).changes }
        if decoded != diff.allChanges { return "the decoded changes differ from the diff's" }
        return nil
    }

    static func randomAssignment(_ reader: inout FuzzByteReader) throws -> Assignment {
        let key = try AssignmentKey(
            AssignmentKind(rawValue: UInt8(reader.byte() % 4)),
            id: UInt64(reader.byte() % 96) << (reader.byte() % 4 * 12))
        let payload = (0..<reader.byte() % 24).map { _ in UInt8(truncatingIfNeeded: reader.byte()) }
        return Assignment(key: key, version: UInt64(reader.byte() % 4), payload: payload)
    }

    /// A key of `model` chosen by the next input byte, or nil when the model is empty.
    static func pickKey(of model: [AssignmentKey: Assignment], _ reader: inout FuzzByteReader) -> AssignmentKey? {
        model.keys.sorted().dropFirst(reader.byte() % max(1, model.count)).first
    }

    /// Checks the split invariants of one batch's messages and applies them in order.
    static func deliver(_ messages: [AssignmentMessage], to applier: inout AssignmentApplier, budget: Int) throws
        -> String?
    {
        for (index, message) in messages.enumerated() {
            if message.bytes.count > budget {
                return "a message of \(message.bytes.count) bytes exceeds the budget of \(budget)"
            }
            if message.isFinalPart != (index == messages.count - 1) {
                return "part \(index) of \(messages.count) has the wrong final flag"
            }
            if index > 0 && message.kind != .incremental { return "a continuation part is not INCREMENTAL" }
            try applier.apply(bytes: message.bytes)
        }
        return nil
    }

    // MARK: Batcher

    static func batcherSequence(_ reader: inout FuzzByteReader) throws -> String? {
        let budget = AssignmentEncoder.minimumByteBudget + reader.byte() * 2
        let configuration = try AssignmentBatcherConfiguration(
            debounce: .microseconds(reader.byte() % 4 * 500), maximumChanges: 1 + reader.byte() % 8, byteBudget: budget)
        var batcher = AssignmentBatcher<BeaconInstant>(configuration: configuration)
        var applier = AssignmentApplier(maximumMessageSize: budget)
        var model: [AssignmentKey: Assignment] = [:]
        var now = BeaconInstant.zero
        var modifications = 0
        while let op = reader.next() {
            let deadlineBefore = batcher.flushDeadline
            var modified = false
            switch op % 6 {
            case 0, 1:
                let assignment = try randomAssignment(&reader)
                let expected = model[assignment.key] != assignment
                modified = try batcher.upsert(
                    assignment.key, version: assignment.version, payload: assignment.payload, at: now)
                if modified != expected {
                    return "upsert of \(assignment) reported \(modified), the model says \(expected)"
                }
                model[assignment.key] = assignment
            case 2:
                guard let key = pickKey(of: model, &reader) else { continue }
                modified = batcher.remove(key, at: now)
                if !modified { return "removing held \(key) reported no change" }
                model[key] = nil
                if batcher.remove(key, at: now) { return "removing \(key) twice changed something" }
            case 3:
                now = now.advanced(by: .microseconds(reader.byte() * 20))
            case 4:
                let due = batcher.isFlushDue(at: now)
                let expectDue =
                    batcher.needsComplete || modifications >= configuration.maximumChanges
                    || (deadlineBefore.map { $0 <= now } ?? false)
                if due != expectDue { return "flush due \(due), expected \(expectDue)" }
                if let failure = try flush(&batcher, into: &applier, model: model, budget: budget, onlyIfDue: now) {
                    return failure
                }
                if due { modifications = 0 }
            default:
                batcher.requestComplete()
                applier.reset()
                modifications = 0
            }
            if modified {
                modifications += 1
                if batcher.flushDeadline != now.advanced(by: configuration.debounce) {
                    return "a modification did not restart the debounce timer"
                }
            } else if batcher.flushDeadline != deadlineBefore && op % 6 < 3 {
                return "a call that changed nothing moved the debounce timer"
            }
            if batcher.pendingModifications != modifications && !batcher.needsComplete {
                return "\(batcher.pendingModifications) modifications pending, expected \(modifications)"
            }
        }
        return try flush(&batcher, into: &applier, model: model, budget: budget, onlyIfDue: nil)
    }

    static func flush(
        _ batcher: inout AssignmentBatcher<BeaconInstant>, into applier: inout AssignmentApplier,
        model: [AssignmentKey: Assignment], budget: Int, onlyIfDue now: BeaconInstant?
    ) throws -> String? {
        let wasDue = now.map { batcher.isFlushDue(at: $0) } ?? true
        let messages = try now.map { try batcher.flushIfDue(at: $0) } ?? batcher.flush()
        if let failure = try deliver(messages, to: &applier, budget: budget) { return failure }
        guard wasDue else { return messages.isEmpty ? nil : "a flush that was not due sent \(messages.count) messages" }
        if applier.table.snapshot() != (try AssignmentSet(model.values)) {
            return "the receiver's set differs from the model after a flush"
        }
        if !messages.isEmpty && !applier.isSettled { return "the receiver is not settled after a whole batch" }
        return nil
    }
}
