import BeaconCore
import BeaconPrimitives

/// What waits for a node's assignment reader, held to a limit
/// (``DispatcherConfiguration/assignmentBacklogLimit``): each INCREMENTAL message weighs its bytes
/// and ``perMessageOverhead``.
///
/// The limit is checked at a batch's first part, and a batch that fits there is taken whole, so a
/// reader that keeps up is never cut off by one large batch (its parts arrive together, under the
/// dispatcher's lock, with no turn for the reader in between). What waits is therefore at most the
/// limit plus one batch. The parts of a COMPLETE set weigh nothing: they are an encoded copy of the
/// node's own set, and a set larger than the limit must still get through. The sink and the reader
/// see the same messages in the same order, so each works out where a COMPLETE set ends on its
/// own. The sink runs under the dispatcher's lock and the reader on its own task, hence the lock;
/// both take it once per message, and messages are batches.
final class AssignmentBacklog: StreamBacklog {
    /// What a queued message costs beside its bytes: the stream's node, the array and the
    /// message's own fields.
    static let perMessageOverhead = 128

    private struct State {
        var waiting = 0
        var admittingCompleteSet = false
        var admittingBatch = false
        var takingCompleteSet = false
        var overflowed = false
    }

    let limit: Int
    private let onOverflow: @Sendable () -> Void
    private let state = PosixMutex(State())

    /// `onOverflow` runs once, when the first message does not fit (under the dispatcher's lock
    /// and the backlog's: it must only count).
    init(limit: Int, onOverflow: @escaping @Sendable () -> Void = {}) {
        self.limit = limit
        self.onOverflow = onOverflow
    }

    var overflow: DispatcherError { .assignmentsBehind(limit: limit) }

    func admit(_ message: AssignmentMessage) -> Bool {
        state.withLock { state in
            guard !state.overflowed else { return false }
            var inCompleteSet = state.admittingCompleteSet
            let weight = Self.weight(of: message, inCompleteSet: &inCompleteSet)
            if !state.admittingBatch, state.waiting > 0, state.waiting > limit - weight {
                state.overflowed = true
                onOverflow()
                return false
            }
            state.admittingCompleteSet = inCompleteSet
            state.admittingBatch = !message.isFinalPart
            state.waiting += weight
            return true
        }
    }

    func taken(_ message: AssignmentMessage) {
        state.withLock { state in
            state.waiting -= Self.weight(of: message, inCompleteSet: &state.takingCompleteSet)
        }
    }

    private static func weight(of message: AssignmentMessage, inCompleteSet: inout Bool) -> Int {
        if message.kind == .complete { inCompleteSet = true }
        let weight = inCompleteSet ? 0 : message.bytes.count + perMessageOverhead
        if message.isFinalPart { inCompleteSet = false }
        return weight
    }
}
