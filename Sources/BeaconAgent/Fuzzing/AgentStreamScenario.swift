import BeaconCore
import BeaconDispatcher

/// One run of the `AgentStreamFuzz` harness: a manager's messages on their way to an
/// `AssignmentFollower`, an adversary between them, and what the follower is expected to do.
///
/// The expectation is a plain model of the protocol: the sequence number the follower last
/// applied, whether it waits for a COMPLETE set, how many reopens in a row it made, and whether
/// its set is known to be the manager's. Every message goes through ``deliver(_:)``, which
/// compares the follower's verdict and state with it.
struct AgentStreamScenario {
    /// A message as the wire carries it: the diff, and the copies of its header beside it.
    struct WireMessage {
        var kind: Int
        var appliesTo: UInt64
        var resultsIn: UInt64
        var diff: [UInt8]
    }

    /// What the follower is expected to hold.
    struct Expectation {
        var lastApplied: UInt64?
        var needsComplete = true
        /// Whether the follower's set is the manager's set as of `lastApplied`. A forged message
        /// that is well formed applies like any other; after one, only the digest vouches for the
        /// set.
        var trusted = true
        var reopens = 0
        /// The back-off of the last reopen, which the next one must exceed.
        var lastDelay: Duration = .zero
    }

    /// The longest back-off the follower may ask for.
    static let longestDelay: Duration = .seconds(10)

    var manager: AgentStreamManager
    var follower: AssignmentFollower
    var expected = Expectation()
    /// The open stream's messages not delivered yet, oldest first.
    var inFlight: [WireMessage] = []
    let byteBudget: Int

    init(byteBudget: Int) throws {
        self.byteBudget = byteBudget
        manager = try AgentStreamManager(byteBudget: byteBudget)
        follower = AssignmentFollower(byteBudget: byteBudget)
    }

    // MARK: The stream

    /// Opens a stream as the agent does after a reopen or in a new session: the follower forgets
    /// its set, the old stream's messages are gone, and the manager starts with a COMPLETE set.
    mutating func openStream() throws -> String? {
        follower.streamOpened()
        if follower.lastApplied != nil || follower.isSettled { return "a reopened stream kept the old stream's set" }
        expected.lastApplied = nil
        expected.needsComplete = true
        expected.trusted = true
        inFlight = try manager.startStream().map(WireMessage.init)
        return nil
    }

    /// Sends what the manager's set gained and lost since its last message.
    mutating func publish() throws {
        inFlight += try manager.publish().map(WireMessage.init)
    }

    /// Delivers every message in flight untouched, then checks the follower holds the manager's
    /// whole set.
    mutating func drain() throws -> String? {
        while !inFlight.isEmpty {
            if let failure = try deliver(inFlight.removeFirst()) { return failure }
        }
        guard follower.isSettled, follower.lastApplied == manager.sequence else {
            return
                "the stream delivered whole ends at \(manager.sequence), the follower at \(Self.name(follower.lastApplied))"
                + " (settled: \(follower.isSettled))"
        }
        if !Self.holds(follower.table, manager.current) {
            return "after a clean stream the follower's set differs from the manager's"
        }
        if follower.tasks != manager.tasks(in: manager.current) {
            return "after a clean stream the follower lists other tasks than the manager assigned"
        }
        if follower.reopens != 0 { return "after a clean stream the follower still counts \(follower.reopens) reopens" }
        return nil
    }

    // MARK: One message

    /// Hands `wire` to the follower and checks its verdict against the expectation; then does
    /// what the agent would (a reopen or a new session both open a new stream).
    mutating func deliver(_ wire: WireMessage) throws -> String? {
        let before = FollowerState(follower)
        let action = follower.receive(
            kind: wire.kind, appliesTo: wire.appliesTo, resultsIn: wire.resultsIn, diff: wire.diff)
        guard let message = try? AssignmentMessage(decoding: wire.diff, maximumSize: byteBudget),
            wire.kind == Int(message.kind.rawValue), wire.appliesTo == message.appliesTo,
            wire.resultsIn == message.resultsIn
        else {
            guard case .refuse = action else { return "a message that fails the wire checks gave \(action)" }
            if FollowerState(follower) != before { return "a refused message changed the follower" }
            return try openStream()
        }
        if follower.bytesReceived != before.bytesReceived + wire.diff.count {
            return "\(message): bytes received went from \(before.bytesReceived) to \(follower.bytesReceived)"
        }
        let follows =
            message.kind == .complete || (!expected.needsComplete && message.appliesTo == expected.lastApplied)
        let truth = manager.sent[message.resultsIn]
        let genuine = truth?.message.bytes == wire.diff
        switch action {
        case .refuse(let error):
            return "\(message) passed the wire checks yet was refused: \(error)"
        case .reopen(let error, let delay):
            return try gap(message, error: error, delay: delay, follows: follows, genuine: genuine, before: before)
        case .giveUp(let error):
            return try gap(message, error: error, delay: nil, follows: follows, genuine: genuine, before: before)
        case .partApplied, .settled:
            return applied(
                message, action: action, follows: follows, genuine: genuine, truth: truth?.set, before: before)
        }
    }

    /// A message that did not apply: the right refusal, the tasks kept, the reopen counted, the
    /// back-off growing, the session given up past the limit.
    private mutating func gap(
        _ message: AssignmentMessage, error: AssignmentApplyError, delay: Duration?, follows: Bool, genuine: Bool,
        before: FollowerState
    ) throws -> String? {
        switch error {
        case .awaitingComplete, .sequenceGap:
            if follows {
                return "\(message) follows the set held (\(Self.name(expected.lastApplied))) but was refused: \(error)"
            }
            let expectedAwaiting = expected.needsComplete
            if case .awaitingComplete = error, !expectedAwaiting {
                return "\(message): awaiting a COMPLETE set when none was needed"
            }
            if case .sequenceGap = error, expectedAwaiting {
                return "\(message): a sequence gap reported while a COMPLETE set was needed"
            }
            if !before.sameSet(as: follower) { return "\(message) was refused as a gap yet changed the follower's set" }
        case .digestMismatch:
            if !follows {
                return
                    "\(message) does not follow \(Self.name(expected.lastApplied)) yet was applied (its digest failed)"
            }
            if genuine && (message.kind == .complete || expected.trusted) {
                return "\(message), sent by the manager and following the set held, failed its digest"
            }
        case .malformed:
            return "\(message) passed decoding yet the applier called it malformed"
        }
        if follower.tasks != before.tasks { return "\(message) was refused yet changed the task list" }
        expected.reopens += 1
        if follower.reopens != expected.reopens {
            return "the follower counts \(follower.reopens) reopens, expected \(expected.reopens)"
        }
        let givesUp = expected.reopens > AssignmentFollower.maximumReopens
        switch delay {
        case nil:
            if !givesUp { return "gave the session up after \(expected.reopens) reopens" }
        case let delay?:
            if givesUp { return "reopen number \(expected.reopens) did not give the session up" }
            if expected.reopens == 1 && delay != .zero { return "the first reopen waits \(delay)" }
            if expected.reopens > 1 && (delay <= expected.lastDelay || delay > Self.longestDelay) {
                return "reopen number \(expected.reopens) waits \(delay) after \(expected.lastDelay)"
            }
            expected.lastDelay = delay
        }
        return try openStream()
    }

    /// A message that applied: it followed the set held; a message the manager sent leaves the
    /// manager's set at that number; a forged one at least its own digest; the tasks change
    /// exactly when a batch settles.
    private mutating func applied(
        _ message: AssignmentMessage, action: AssignmentFollower.Action, follows: Bool, genuine: Bool,
        truth: [AssignmentKey: Assignment]?, before: FollowerState
    ) -> String? {
        if !follows {
            return expected.needsComplete
                ? "\(message) applied while a COMPLETE set was needed"
                : "\(message) applied after \(Self.name(expected.lastApplied))"
        }
        if follower.lastApplied != message.resultsIn {
            return "\(message) applied but the follower is at \(Self.name(follower.lastApplied))"
        }
        if follower.reopens != 0 {
            return "\(message) applied cleanly but \(follower.reopens) reopens are still counted"
        }
        let holdsTruth = truth.map { Self.holds(follower.table, $0) } ?? false
        if genuine && !holdsTruth {
            return "after \(message), sent by the manager, the follower's set differs from the manager's"
        }
        if !genuine && follower.table.digest != message.stateDigest {
            return "forged \(message) applied with another digest"
        }
        switch action {
        case .settled(let tasks, let complete, let bytes):
            if !message.isFinalPart { return "\(message) settled though more parts follow" }
            if tasks != follower.tasks { return "the settled verdict lists other tasks than the follower keeps" }
            if complete != (message.kind == .complete) || bytes != message.bytes.count {
                return "\(message) settled as complete: \(complete), \(bytes) bytes"
            }
            if let truth, holdsTruth, tasks != manager.tasks(in: truth) {
                return "after \(message) the follower lists other tasks than the manager assigned"
            }
        default:
            if message.isFinalPart { return "\(message) is a batch's last part yet did not settle" }
            if follower.tasks != before.tasks {
                return "\(message) is not a batch's last part yet changed the task list"
            }
        }
        expected.lastApplied = message.resultsIn
        expected.needsComplete = false
        expected.trusted = holdsTruth
        expected.reopens = 0
        expected.lastDelay = .zero
        return nil
    }

    // MARK: Comparisons

    /// A sequence number for a failure message.
    static func name(_ sequence: UInt64?) -> String {
        sequence.map { "\($0)" } ?? "none"
    }

    /// Whether `table` holds exactly `set`: the same keys, each at the same version with a
    /// payload of the same length. The manager gives every upsert a version of its own, so that
    /// names the payload; comparing the bytes as well would cost more than the rest of a step
    /// under the fuzzer's instrumentation, and the task list compared on settling covers them.
    static func holds(_ table: AssignmentTable, _ set: [AssignmentKey: Assignment]) -> Bool {
        table.count == set.count
            && set.allSatisfy { key, assignment in
                table.version(of: key) == assignment.version
                    && table.withPayload(for: key, \.count) == assignment.payload.count
            }
    }

    /// What the follower keeps, taken before a message so as not to copy its set.
    struct FollowerState: Equatable {
        var digest: UInt64
        var count: Int
        var lastApplied: UInt64?
        var isSettled: Bool
        var tasks: [DispatchedTask]
        var reopens: Int
        var bytesReceived: Int

        init(_ follower: AssignmentFollower) {
            digest = follower.table.digest
            count = follower.table.count
            lastApplied = follower.lastApplied
            isSettled = follower.isSettled
            tasks = follower.tasks
            reopens = follower.reopens
            bytesReceived = follower.bytesReceived
        }

        /// Whether the set is the one held when this was taken.
        func sameSet(as follower: AssignmentFollower) -> Bool {
            follower.table.digest == digest && follower.table.count == count && follower.lastApplied == lastApplied
        }
    }
}

extension AgentStreamScenario.WireMessage {
    /// A message as the manager sends it, with true copies of its header.
    init(_ message: AssignmentMessage) {
        self.init(
            kind: Int(message.kind.rawValue), appliesTo: message.appliesTo, resultsIn: message.resultsIn,
            diff: message.bytes)
    }
}
