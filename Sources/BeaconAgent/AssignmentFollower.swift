package import BeaconCore
package import BeaconDispatcher

/// The agent's side of the assignment stream without the stream: what each message from a
/// manager does to the node's tasks, and what the agent must do next.
///
/// ``NodeAgent`` owns one for its whole life, calls ``streamOpened()`` whenever it opens the
/// `Assignments` stream and ``receive(kind:appliesTo:resultsIn:diff:)`` for each message, and
/// only carries out the ``Action`` it gets back (events, a delay, reopening the stream, ending
/// the session). Keeping the decisions here, free of gRPC and clocks, lets the `AgentStreamFuzz`
/// target drive it with arbitrary streams.
///
/// A message whose diff does not decode, or whose wire copies of the kind and sequence numbers
/// disagree with its diff, changes nothing. A diff that does not follow the last one applied,
/// or whose digest disagrees, costs a reopen of the stream, which starts with a COMPLETE set;
/// the reopens count up until a message applies, and past ``maximumReopens`` the session is
/// given up.
package struct AssignmentFollower: Sendable {
    /// Reopens of the assignment stream in a row, without a message applying cleanly in
    /// between, before the agent gives the session up.
    package static let maximumReopens = 5

    /// What the agent does after a message.
    package enum Action: Sendable, Hashable {
        /// The message applied, but more parts of its batch follow: nothing to act on yet.
        case partApplied
        /// The message applied and completed its batch: `tasks` are the node's tasks now.
        /// `complete` says the message was a COMPLETE set; `bytes` is its diff's size.
        case settled(tasks: [DispatchedTask], complete: Bool, bytes: Int)
        /// The message was altered on the way (its diff is malformed, or the wire's copies of
        /// its header disagree with it): nothing was applied; end the session.
        case refuse(AssignmentsMessageError)
        /// The message does not follow the set held: reopen the stream, which starts with a
        /// COMPLETE set, once `delay` has passed.
        case reopen(AssignmentApplyError, after: Duration)
        /// The stream was reopened ``maximumReopens`` times in a row without a message applying
        /// in between: the manager keeps sending what cannot apply, so end the session.
        case giveUp(AssignmentApplyError)
    }

    private var applier: AssignmentApplier
    /// The tasks of the last settled set, in key order.
    package private(set) var tasks: [DispatchedTask] = []
    /// Bytes of diffs received that passed the wire checks.
    package private(set) var bytesReceived = 0
    /// Reopens since a message last applied cleanly. It lasts across sessions: a new session
    /// starts its stream with a COMPLETE set, and only that set applying resets it.
    package private(set) var reopens = 0

    /// Diffs larger than `byteBudget` bytes are refused as malformed.
    package init(byteBudget: Int) {
        applier = AssignmentApplier(maximumMessageSize: byteBudget)
    }

    /// The set as the applied messages left it; consistent with the manager's only when
    /// ``isSettled``.
    package var table: AssignmentTable { applier.table }
    /// `resultsIn` of the last message applied on the current stream.
    package var lastApplied: UInt64? { applier.lastApplied }
    /// Whether the last message applied was the final part of its batch.
    package var isSettled: Bool { applier.isSettled }

    /// A new stream begins with a COMPLETE set: forget the set held until it comes. The tasks
    /// of the last settled set stay until a new set settles.
    package mutating func streamOpened() {
        applier.reset()
    }

    /// Checks and applies one message of the stream. `kind`, `appliesTo` and `resultsIn` are the
    /// copies the wire carries beside the diff (`kind` is `AssignmentsMessage.Kind`'s number,
    /// which dispatcher.proto makes the diff's kind byte: 1 COMPLETE, 2 INCREMENTAL).
    package mutating func receive(kind: Int, appliesTo: UInt64, resultsIn: UInt64, diff: [UInt8]) -> Action {
        let message: AssignmentMessage
        do {
            message = try AssignmentMessage(decoding: diff, maximumSize: applier.maximumMessageSize)
        } catch {
            return .refuse(.malformedDiff(error))
        }
        guard kind == Int(message.kind.rawValue), appliesTo == message.appliesTo, resultsIn == message.resultsIn else {
            return .refuse(
                .headerMismatch(kind: kind, appliesTo: appliesTo, resultsIn: resultsIn, diff: message.description))
        }
        bytesReceived += diff.count
        do {
            try applier.apply(message)
        } catch {
            return reopenOrGiveUp(after: error)
        }
        reopens = 0
        guard applier.isSettled else { return .partApplied }
        tasks = Self.tasks(in: applier.table)
        return .settled(tasks: tasks, complete: message.kind == .complete, bytes: diff.count)
    }

    /// The manager ended the stream because this node read it too slowly
    /// (`DispatcherError.assignmentsBehind`): nothing was lost, and a reopened stream starts with
    /// a COMPLETE set. Counted like a gap: a stream that keeps ending before a message applies is
    /// reopened later and later, while one whose COMPLETE set applies starts the count again.
    /// Returns how long to wait before reopening; nil when the session should be given up.
    package mutating func streamEndedBehind() -> Duration? {
        countReopen()
    }

    private mutating func reopenOrGiveUp(after error: AssignmentApplyError) -> Action {
        guard let delay = countReopen() else { return .giveUp(error) }
        return .reopen(error, after: delay)
    }

    /// Counts a reopen. A set that does not apply however often it is sent (its digest
    /// disagrees) would make both ends spin, so every reopen after the first waits twice as long
    /// as the one before, and past ``maximumReopens`` there is none (nil).
    private mutating func countReopen() -> Duration? {
        reopens += 1
        guard reopens <= Self.maximumReopens else { return nil }
        return reopens > 1 ? .milliseconds(50) * (1 << min(reopens, 7)) : .zero
    }

    /// The tasks among the set's assignments; other objects, and payloads that are not a task,
    /// are skipped.
    private static func tasks(in table: AssignmentTable) -> [DispatchedTask] {
        table.sortedKeys().compactMap { key in
            guard key.kind == .task, let assignment = table[key],
                case .task(let task) = try? AssignedObject(decoding: assignment.payload)
            else { return nil }
            return task
        }
    }
}
