import BeaconCore
import BeaconDispatcher

/// An assignment stream's receiving end in a simulation: applies every message and remembers
/// which tasks it holds.
struct SimulatedAssignmentReceiver {
    var applier = AssignmentApplier()
    var messages = 0
    var bytes = 0
    var changes = 0
    var failed = false

    mutating func receive(_ message: AssignmentMessage) {
        messages += 1
        bytes += message.bytes.count
        changes += message.changeCount
        do {
            try applier.apply(message)
        } catch {
            failed = true
        }
    }

    /// The task ids the node holds.
    func heldTasks() -> Set<String> {
        var held = Set<String>()
        for key in applier.table.sortedKeys() {
            guard let assignment = applier.table[key],
                case .task(let task)? = try? AssignedObject(decoding: assignment.payload)
            else { continue }
            held.insert(task.id)
        }
        return held
    }
}
