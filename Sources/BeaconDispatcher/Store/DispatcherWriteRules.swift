/// How a store applies the dispatcher's writes to one record: the rules every `DispatcherStore`
/// of this package follows, so that the in-memory store and the coordinated one cannot drift.
extension Node {
    /// Takes a status write: the state and message always, the address only when one was
    /// reported, the description when one was given.
    package mutating func apply(_ status: NodeStatus, description: NodeDescription?) {
        self.status.state = status.state
        self.status.message = status.message
        if !status.address.isEmpty { self.status.address = status.address }
        if let description { self.description = description }
    }
}

extension DispatchedTask {
    /// Takes a status write unless it would move the task backwards; returns whether it did.
    package mutating func apply(_ status: TaskStatus) -> Bool {
        guard self.status.state <= status.state else { return false }
        self.status = status
        return true
    }

    /// Marks a task that is active on its node ORPHANED (its node has been down too long);
    /// returns whether it was active.
    package mutating func orphan() -> Bool {
        guard status.state.isActiveOnNode else { return false }
        status = TaskStatus(state: .orphaned, message: "node has been down for too long")
        return true
    }
}
