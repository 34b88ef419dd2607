import BeaconCore

/// What ``DispatcherRequestFuzzHarness`` checks after every request and at the end of an input.
extension DispatcherRequestFuzzHarness.Run {
    /// After every request: what is queued, who is registered, which sessions hold, and what
    /// the store holds all agree with the model.
    mutating func check() -> String? {
        let core = dispatcher.core
        if core.counters.flushes != flushes {
            return "the dispatcher flushed writes outside a clock advance or registration"
        }
        if core.pendingWriteCount != model.pendingCount {
            return "the dispatcher queued \(core.pendingWriteCount) writes, the model \(model.pendingCount)"
        }
        let live = model.nodes.count { $0.liveness != .absent }
        if core.isRunning != model.running || core.nodeCount != live {
            return
                "the dispatcher \(core.isRunning ? "runs" : "is stopped") with \(core.nodeCount) nodes; the model \(model.running ? "runs" : "is stopped") with \(live)"
        }
        for index in model.nodes.indices {
            if let failure = checkSessions(of: index) { return failure }
        }
        return checkStore()
    }

    /// The store against the model, for what changed since the last comparison. A flush that
    /// carried no status or orphan write cannot touch tasks legitimately, and a write the model
    /// did not queue already failed the queued-writes comparison, so only the parts written are
    /// read back; ``finish()`` compares everything.
    mutating func checkStore() -> String? {
        defer { model.unverified = [] }
        if model.unverified.contains(.nodes) {
            for node in model.nodes {
                if let failure = checkStored(node) { return failure }
            }
        }
        guard model.unverified.contains(.tasks) else { return nil }
        for task in model.tasks {
            let stored = dispatcher.store.task(task.id)
            guard stored?.status == task.status, stored?.nodeID == task.owner.map({ ids[$0] }) else {
                return
                    "task \(task.id) is \(stored.map { "\($0.status) on \($0.nodeID.map { "\($0)" } ?? "no node")" } ?? "gone") in the store; the model has \(task.status) on \(task.owner.map { "\(ids[$0])" } ?? "no node")"
            }
        }
        return nil
    }

    /// The node's current session validates; its newest superseded one is refused as documented.
    func checkSessions(of index: Int) -> String? {
        let core = dispatcher.core
        let node = model.nodes[index]
        let current = model.current(index)
        if let current {
            do {
                try core.validate(node: node.id, session: current)
            } catch {
                return "\(node.id) lost its session \(current): \(error)"
            }
        }
        guard let stale = current == nil ? node.issued.last : node.issued.dropLast().last else { return nil }
        do {
            try core.validate(node: node.id, session: stale)
            return "\(node.id)'s superseded session \(stale) still validates"
        } catch {
            let expected = model.failure(index)
            return error == expected
                ? nil : "\(node.id)'s superseded session refused with \(error), expected \(expected)"
        }
    }

    func checkStored(_ node: DispatcherRequestModel.Node) -> String? {
        let stored = dispatcher.store.node(node.id)?.status
        guard stored?.state == node.stored?.state, stored?.message == node.stored?.message else {
            return
                "\(node.id) is \(stored.map { "\($0.state) (\($0.message))" } ?? "missing") in the store; the model has \(node.stored.map { "\($0.state) (\($0.message))" } ?? "missing")"
        }
        return nil
    }

    /// Ends the term if one runs, committing what is queued, and compares the whole store.
    mutating func finish() -> String? {
        if model.running { endTerm() }
        model.unverified = [.nodes, .tasks]
        return check()
    }
}
