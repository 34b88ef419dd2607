import BeaconCore
import BeaconPrimitives

/// The bytes of INCREMENTAL assignment messages waiting for a node's reader, held to a limit
/// (``DispatcherConfiguration/assignmentBacklogLimit``).
///
/// The parts of a COMPLETE set weigh nothing, INCREMENTAL parts included: the set is the node's
/// own tasks, which the dispatcher holds anyway, and a set larger than the limit must still get
/// through. The sink and the reader see the same messages in the same order, so each works out
/// where a COMPLETE set ends on its own. The sink runs under the dispatcher's lock and the reader
/// on its own task, hence the lock; both take it once per message, and messages are batches.
final class AssignmentBacklog: StreamBacklog {
    private struct State {
        var waiting = 0
        var admittingCompleteSet = false
        var takingCompleteSet = false
    }

    let limit: Int
    private let state = PosixMutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var overflow: DispatcherError { .assignmentsBehind(limit: limit) }

    func admit(_ message: AssignmentMessage) -> Bool {
        state.withLock { state in
            var inCompleteSet = state.admittingCompleteSet
            let weight = Self.weight(of: message, inCompleteSet: &inCompleteSet)
            guard state.waiting <= limit - weight else { return false }
            state.admittingCompleteSet = inCompleteSet
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
        let weight = inCompleteSet ? 0 : message.bytes.count
        if message.isFinalPart { inCompleteSet = false }
        return weight
    }
}
