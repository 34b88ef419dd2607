import BeaconCore
import BeaconDispatcher

/// The orchestrator's side: tasks created, changed and deleted on the nodes with assignment
/// streams, and what each node should hold.
struct TaskChurn {
    private var random: SplitMix64
    private var tasks: [[String]]
    private var nextTask = 0
    let nodes: [NodeID]

    init(nodes: [NodeID], seed: UInt64) {
        self.nodes = nodes
        tasks = Array(repeating: [], count: nodes.count)
        random = SplitMix64(seed: seed ^ 0xC0FFEE)
    }

    /// One orchestrator write: create a task (half the time), change one, or delete one.
    mutating func step(_ store: InMemoryDispatcherStore) {
        guard !nodes.isEmpty else { return }
        let slot = Int(random.next(upperBound: UInt64(nodes.count)))
        let choice = random.next(upperBound: UInt64(4))
        if choice < 2 || tasks[slot].isEmpty {
            nextTask += 1
            let id = "task-\(nextTask)"
            tasks[slot].append(id)
            store.putTask(
                DispatchedTask(
                    id: id, nodeID: nodes[slot], status: TaskStatus(state: .assigned),
                    spec: Array(repeating: UInt8(truncatingIfNeeded: nextTask), count: 64)))
        } else if choice == 2 {
            let index = Int(random.next(upperBound: UInt64(tasks[slot].count)))
            if var task = store.task(tasks[slot][index]) {
                task.spec[0] &+= 1
                store.putTask(task)
            }
        } else {
            let index = Int(random.next(upperBound: UInt64(tasks[slot].count)))
            store.deleteTask(tasks[slot].remove(at: index))
        }
    }

    /// The task ids the store holds for the node at `slot`.
    func expected(_ slot: Int) -> Set<String> {
        Set(tasks[slot])
    }
}
