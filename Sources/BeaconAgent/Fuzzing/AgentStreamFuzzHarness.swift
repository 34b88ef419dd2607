import BeaconCore
import BeaconDispatcher

/// The `AgentStreamFuzz` libFuzzer target's logic: the node agent's `AssignmentFollower`
/// consumes the assignment stream of a manager model while an adversary, driven by the input,
/// drops, duplicates, reorders, truncates and flips messages, sends wire copies of the header
/// that disagree with the diff, forges messages from raw bytes and replays old ones.
///
/// The first byte picks the byte budget (128 to 368 bytes, so batches split into parts); every
/// later byte is an operation and its arguments (see ``perform(_:_:in:)``), at most
/// ``maximumOperations`` of them. After every message ``AgentStreamScenario`` checks that:
/// - a message that fails the wire checks is refused and changes nothing;
/// - a message that does not follow the set held never applies, keeps the task list, and
///   costs a reopen; past ``AssignmentFollower/maximumReopens`` in a row the session is given
///   up, and every reopen after the first waits longer;
/// - a message the manager sent, applied, leaves exactly the manager's set at that sequence
///   number, and the tasks the follower reports when it settles are the manager's tasks. (A
///   forged message that is well formed applies like any other, as no receiver can tell it
///   apart; it must still match its own digest.)
///
/// At the end the agent opens a new stream and the manager's COMPLETE set, delivered untouched,
/// must bring it back to the manager's whole set with no reopen counted.
///
/// It lives in the library (with `package` access) so the unit tests replay committed inputs
/// through the same code. Not for use outside Beacon's tests and fuzzers.
package enum AgentStreamFuzzHarness {
    /// Operations read per input: enough for several reopens, splits and recoveries, few enough
    /// for thousands of inputs a second.
    static let maximumOperations = 48

    /// Runs one input; returns a description of the first broken invariant, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var reader = FuzzByteReader(input)
        do {
            var scenario = try AgentStreamScenario(
                byteBudget: AssignmentEncoder.minimumByteBudget + reader.byte() % 16 * 16)
            if let failure = try scenario.openStream() { return failure }
            var operations = 0
            while operations < maximumOperations, let operation = reader.next() {
                operations += 1
                if let failure = try perform(operation, &reader, in: &scenario) { return failure }
            }
            if let failure = try scenario.openStream() { return failure }
            return try scenario.drain()
        } catch {
            return "unexpected error: \(error)"
        }
    }

    /// Operations, by the byte's value modulo 16:
    ///
    /// | op | what | arguments |
    /// |---|---|---|
    /// | 0, 1 | the manager assigns task `t<id>` | id, desired state, spec size |
    /// | 2 | the manager assigns a secret, a config or a task key whose payload is no task | kind, id, size |
    /// | 3 | the manager unassigns a key | index |
    /// | 4 | the manager sends what changed | |
    /// | 5, 6 | the next message is delivered | |
    /// | 7 | the next few messages are delivered | count |
    /// | 8 | the next message is dropped | |
    /// | 9 | the next message is delivered twice (a copy now, the original later) | |
    /// | 10 | the next message is moved back | distance |
    /// | 11 | the next message loses its tail | kept length |
    /// | 12 | the next message has a byte flipped | position (2 bytes), mask |
    /// | 13 | the next message's wire copies disagree with its diff | field, delta |
    /// | 14 | forged bytes arrive | copies mode, length, bytes |
    /// | 15 | an old message is replayed, or the stream breaks and is reopened | which |
    static func perform(_ operation: UInt8, _ reader: inout FuzzByteReader, in scenario: inout AgentStreamScenario)
        throws -> String?
    {
        switch operation % 16 {
        case 0, 1:
            let states: [TaskState] = [.running, .shutdown, .complete, .ready]
            let id = UInt64(reader.byte() % 8)
            let desired = states[reader.byte() % states.count]
            try scenario.manager.assignTask(id: id, desired: desired, specBytes: reader.byte() % 21)
        case 2:
            let kinds: [AssignmentKind] = [.secret, .config, .task]
            let kind = kinds[reader.byte() % kinds.count]
            let id = UInt64(reader.byte() % 8)
            try scenario.manager.assignOther(kind: kind, id: id, payloadBytes: reader.byte() % 16)
        case 3:
            scenario.manager.remove(index: reader.byte())
        case 4:
            try scenario.publish()
        case 5, 6:
            guard !scenario.inFlight.isEmpty else { return nil }
            return try scenario.deliver(scenario.inFlight.removeFirst())
        case 7:
            for _ in 0...(reader.byte() % 8) where !scenario.inFlight.isEmpty {
                if let failure = try scenario.deliver(scenario.inFlight.removeFirst()) { return failure }
            }
        case 8:
            if !scenario.inFlight.isEmpty { scenario.inFlight.removeFirst() }
        case 9:
            guard let next = scenario.inFlight.first else { return nil }
            return try scenario.deliver(next)
        case 10:
            let distance = 1 + reader.byte() % 3
            guard scenario.inFlight.count > 1 else { return nil }
            let next = scenario.inFlight.removeFirst()
            scenario.inFlight.insert(next, at: min(distance, scenario.inFlight.count))
        case 11:
            let kept = reader.byte()
            guard var next = scenario.inFlight.first else { return nil }
            scenario.inFlight.removeFirst()
            next.diff.removeLast(max(1, next.diff.count - kept))
            return try scenario.deliver(next)
        case 12:
            let position = reader.byte() << 8 | reader.byte()
            let mask = UInt8(reader.byte() | 1)
            guard var next = scenario.inFlight.first else { return nil }
            scenario.inFlight.removeFirst()
            next.diff[position % next.diff.count] ^= mask
            return try scenario.deliver(next)
        case 13:
            let field = reader.byte()
            let delta = UInt64(1 + reader.byte() % 3)
            guard var next = scenario.inFlight.first else { return nil }
            scenario.inFlight.removeFirst()
            switch field % 3 {
            case 0: next.kind = (next.kind + Int(delta)) % 4
            case 1: next.appliesTo &+= delta
            default: next.resultsIn &-= delta
            }
            return try scenario.deliver(next)
        case 14:
            return try scenario.deliver(forged(&reader))
        default:
            let which = reader.byte()
            guard which < 192, scenario.manager.sequence > 0,
                let old = scenario.manager.sent[1 + UInt64(which) % scenario.manager.sequence]
            else { return try scenario.openStream() }
            return try scenario.deliver(AgentStreamScenario.WireMessage(old.message))
        }
        return nil
    }

    /// Bytes from the input as a diff. With an even mode byte the wire copies repeat what the
    /// bytes' own header says, so a well-formed forgery passes the wire checks; with an odd one
    /// they come from the input too.
    static func forged(_ reader: inout FuzzByteReader) -> AgentStreamScenario.WireMessage {
        let mode = reader.byte()
        let diff = reader.lengthPrefixedBytes()
        guard mode.isMultiple(of: 2) else {
            return AgentStreamScenario.WireMessage(
                kind: reader.byte() % 4, appliesTo: UInt64(reader.byte()), resultsIn: UInt64(reader.byte()), diff: diff)
        }
        func field(at offset: Int) -> UInt64 {
            guard diff.count >= offset + 8 else { return 0 }
            return diff[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        return AgentStreamScenario.WireMessage(
            kind: diff.count > 5 ? Int(diff[5]) : 0, appliesTo: field(at: 16), resultsIn: field(at: 8), diff: diff)
    }
}
