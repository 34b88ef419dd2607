import BeaconCore

/// The requests of ``DispatcherRequestFuzzHarness``: each decodes its arguments, asks the model
/// what the dispatcher must answer, sends the request and compares.
extension DispatcherRequestFuzzHarness.Run {
    /// The session text a request from `node` carries (the forms are listed on
    /// ``DispatcherRequestFuzzHarness``).
    func sessionText(for node: Int, _ reader: inout FuzzByteReader) -> String {
        let spec = reader.byte()
        let parameter = spec >> 3
        let issued = model.nodes[node].issued
        var own: String { model.current(node)?.description ?? "" }
        switch spec & 7 {
        case 0:
            return own
        case 1:
            let other = (node + 1 + parameter % (ids.count - 1)) % ids.count
            return model.current(other)?.description ?? own
        case 2:
            return issued.isEmpty ? own : issued[parameter % issued.count].description
        case 3:
            let base = model.current(node) ?? issued.last
            return SessionTextModel.mutating(
                base?.description ?? "00000000000000010000000000000001", at: parameter, choice: reader.byte())
        case 4:
            return String(decoding: reader.lengthPrefixedBytes(limit: 40), as: UTF8.self)
        case 5:
            let text = own
            switch parameter % 4 {
            case 0: return text.uppercased()
            case 1: return text + "0"
            case 2: return String(text.dropLast())
            default: return " " + text
            }
        case 6:
            return ""
        default:
            // The right slot with a guessed secret (0 included, which no session may have).
            guard let known = model.current(node) ?? issued.last else { return own }
            var parts = SessionTextModel.parts(of: known)
            parts.secret = reader.word()
            return SessionTextModel.text(of: parts)
        }
    }

    /// `SessionID(text)` held against the model's parser: the session when both accept it,
    /// nil when both refuse it, or a failure when they disagree.
    static func parse(_ text: String) -> Result<SessionID?, Failure> {
        let expected = SessionTextModel.parse(text)
        do {
            let session = try SessionID(text)
            guard let expected, SessionTextModel.parts(of: session) == expected else {
                return .failure(
                    Failure(
                        "SessionID(\(String(reflecting: text))) accepted it as \(session.handle) secret \(session.secret); the model reads \(expected.map { "\($0)" } ?? "no session")"
                    ))
            }
            guard session.description == text else {
                return .failure(Failure("session text \(text) reads back as \(session.description)"))
            }
            return .success(session)
        } catch {
            guard error == .sessionInvalid else {
                return .failure(Failure("SessionID(\(String(reflecting: text))) threw \(error)"))
            }
            if let expected {
                return .failure(Failure("SessionID refused \(String(reflecting: text)), which reads as \(expected)"))
            }
            return .success(nil)
        }
    }

    struct Failure: Error {
        let description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Requests

    mutating func register(_ reader: inout FuzzByteReader) -> String? {
        let node = reader.byte() % ids.count
        let text = sessionText(for: node, &reader)
        var resume: SessionID?
        if !text.isEmpty {
            switch Self.parse(text) {
            case .failure(let failure): return failure.description
            // The service refuses a malformed resume id before the dispatcher sees it.
            case .success(nil): return nil
            case .success(let session?): resume = session
            }
        }
        let expected = model.beginRegistration(node, resume: resume)
        var outcome: Result<SessionMessage, DispatcherError>?
        do {
            try dispatcher.register(ids[node], resume: resume) { outcome = $0 }
        } catch {
            guard case .failure(error) = expected else {
                return "registration of \(ids[node]) refused with \(error), expected \(expected)"
            }
            return nil
        }
        guard case .success(let resumed) = expected else {
            return "registration of \(ids[node]) accepted, expected \(expected)"
        }
        // The READY write commits at once, at the same instant: no deadline passes while the
        // registration is in flight, so its outcome is the model's to predict.
        let core = dispatcher.core
        guard let batch = core.takeWrites(at: dispatcher.now) else { return "a registration queued nothing to commit" }
        dispatcher.commit(batch)
        flushes = core.counters.flushes
        model.lastFlush = model.now
        model.applyFlush()
        let message: SessionMessage
        switch outcome {
        case nil: return "registration of \(ids[node]) did not complete when its write committed"
        case .failure(let error)?: return "registration of \(ids[node]) failed on completion with \(error)"
        case .success(let completed)?: message = completed
        }
        guard message.node.id == ids[node], message.node.status.state == .ready else {
            return
                "registration of \(ids[node]) answered with node \(message.node.id) in state \(message.node.status.state)"
        }
        if resumed {
            return message.sessionID == resume ? nil : "resuming \(resume!) issued \(message.sessionID)"
        }
        return issue(message.sessionID, to: node)
    }

    /// A new session: never issued before, its text round-trips, and it becomes the node's only one.
    mutating func issue(_ session: SessionID, to node: Int) -> String? {
        let text = session.description
        if model.nodes.contains(where: { $0.issued.contains(session) }) { return "session \(text) was issued twice" }
        let parts = SessionTextModel.parts(of: session)
        guard session.secret != 0, text == SessionTextModel.text(of: parts), (try? SessionID(text)) == session else {
            return "issued session \(parts) has text \(String(reflecting: text)), which does not read back as it"
        }
        model.issue(node, session)
        return nil
    }

    mutating func heartbeat(_ reader: inout FuzzByteReader) -> String? {
        let node = reader.byte() % ids.count
        let session: SessionID
        switch Self.parse(sessionText(for: node, &reader)) {
        case .failure(let failure): return failure.description
        case .success(nil): return nil
        case .success(let parsed?): session = parsed
        }
        let expected = model.refusal(node, session)
        do {
            let period = Self.micros(try dispatcher.heartbeat(node: ids[node], session: session))
            if let expected { return "heartbeat of \(ids[node]) with \(session) accepted, expected \(expected)" }
            let settings = model.settings
            guard period >= settings.periodMicros - settings.jitterMicros,
                period < settings.periodMicros + max(settings.jitterMicros, 1)
            else {
                return "heartbeat period \(period) µs outside \(settings.periodMicros) ± \(settings.jitterMicros) µs"
            }
            model.beat(node, periodMicros: period)
        } catch {
            guard error == expected else {
                return
                    "heartbeat of \(ids[node]) with \(session) refused with \(error), expected \(String(describing: expected))"
            }
        }
        return nil
    }

    mutating func updateTaskStatus(_ reader: inout FuzzByteReader) -> String? {
        let node = reader.byte() % ids.count
        let text = sessionText(for: node, &reader)
        var updates: [TaskStatusUpdate] = []
        for position in 0..<reader.byte() % 8 {
            let id = taskID(for: node, pick: reader.byte(), previous: updates.last?.taskID, &reader)
            let state = reader.byte()
            // Every status carries a message naming its request, so the store shows which one won.
            let status: TaskStatus? =
                state >= 0xF0
                ? nil
                : TaskStatus(
                    state: TaskState.allCases[state % TaskState.allCases.count], message: "\(requests).\(position)")
            updates.append(TaskStatusUpdate(taskID: id, status: status))
        }
        let session: SessionID
        switch Self.parse(text) {
        case .failure(let failure): return failure.description
        case .success(nil): return nil
        case .success(let parsed?): session = parsed
        }
        let expected = model.statusOutcome(node, session, updates)
        do {
            try dispatcher.core.updateTaskStatus(node: ids[node], session: session, updates)
            guard case .success(let accepted) = expected else {
                return "status batch \(Self.describe(updates)) from \(ids[node]) accepted, expected \(expected)"
            }
            for (id, status) in accepted { model.pendingTasks[id] = status }
        } catch {
            guard case .failure(error) = expected else {
                return
                    "status batch \(Self.describe(updates)) from \(ids[node]) refused with \(error), expected it accepted"
            }
        }
        return nil
    }

    /// A batch as `[a1 running (3.0), gone -, …]`, for failure messages.
    static func describe(_ updates: [TaskStatusUpdate]) -> String {
        "["
            + updates.map { update in
                "\(String(reflecting: update.taskID)) \(update.status.map { "\($0.state) (\($0.message))" } ?? "-")"
            }.joined(separator: ", ") + "]"
    }

    func taskID(for node: Int, pick: Int, previous: String?, _ reader: inout FuzzByteReader) -> String {
        let parameter = pick >> 3
        switch pick & 7 {
        case 0, 1, 6:
            let own = model.tasks.filter { $0.owner == node }
            return own.isEmpty ? Self.unknownTaskIDs[0] : own[parameter % own.count].id
        case 2, 3:
            let others = model.tasks.filter { $0.owner != node }
            return others.isEmpty ? Self.unknownTaskIDs[0] : others[parameter % others.count].id
        case 4:
            return previous ?? Self.unknownTaskIDs[0]
        case 5:
            return Self.unknownTaskIDs[parameter % Self.unknownTaskIDs.count]
        default:
            return String(decoding: reader.lengthPrefixedBytes(limit: 8), as: UTF8.self)
        }
    }

    /// Small steps (25 ms to 4 s) or jumps (up to 32 s, past the orphan delay, up to two minutes).
    mutating func advance(_ reader: inout FuzzByteReader) -> String? {
        let byte = UInt64(reader.byte())
        let step = byte < 160 ? byte * 25_000 : byte < 224 ? (byte - 159) * 500_000 : (byte - 223) * 4_000_000
        expiries.reports.removeAll(keepingCapacity: true)
        dispatcher.advance(by: .microseconds(Int64(step)))
        model.now += step
        for report in expiries.reports {
            guard report.at == dispatcher.now, let node = ids.firstIndex(of: report.node) else {
                return "expiry of \(report.node) reported at \(report.at), not now (\(dispatcher.now))"
            }
            if let failure = model.expired(node) { return failure }
        }
        if let missed = model.missedExpiry() { return missed }
        model.fireOrphanTimers()
        let due = model.isFlushDue
        guard dispatcher.core.counters.flushes != flushes else {
            return due
                ? "\(model.pendingCount) queued writes were not flushed at \(model.now) µs (last flush \(model.lastFlush) µs)"
                : nil
        }
        guard due else {
            return
                "a flush at \(model.now) µs was not due (\(model.pendingCount) writes queued, last flush \(model.lastFlush) µs)"
        }
        flushes = dispatcher.core.counters.flushes
        model.lastFlush = model.now
        model.applyFlush()
        return nil
    }

    func identify(_ reader: inout FuzzByteReader) -> String? {
        let shape = reader.byte()
        func name() -> String {
            let pick = reader.byte()
            return pick < 224
                ? Self.identityNames[pick % Self.identityNames.count]
                : String(decoding: reader.lengthPrefixedBytes(limit: 16), as: UTF8.self)
        }
        let claimed = (0..<shape % 4).map { _ in name() }
        let certificate = (shape >> 2) % 4
        let names = certificate == 0 ? nil : (0..<certificate - 1).map { _ in name() }
        return NodeIdentityModel.check(claimed: claimed, certificateNames: names, requiresCertificate: shape & 16 != 0)
    }

    /// The orchestrator's side: the late node joins, or a task moves to another node (or none).
    mutating func orchestrate(_ reader: inout FuzzByteReader) -> String? {
        let pick = reader.byte()
        if pick & 3 == 0 {
            let created = dispatcher.store.createNode(ids[Self.late])
            guard created != model.nodes[Self.late].inStore else {
                return
                    "creating \(ids[Self.late]) returned \(created) with the node \(created ? "already" : "not") in the store"
            }
            if created {
                model.nodes[Self.late].inStore = true
                model.nodes[Self.late].stored = NodeStatus(state: .unknown)
                model.unverified.insert(.nodes)
            }
            return nil
        }
        let position = (pick >> 2) % model.tasks.count
        let owner = [0, 1, 2, Self.late, nil][reader.byte() % 5]
        guard var task = dispatcher.store.task(model.tasks[position].id) else {
            return "task \(model.tasks[position].id) vanished"
        }
        task.nodeID = owner.map { ids[$0] }
        dispatcher.store.putTask(task)
        model.tasks[position].owner = owner
        model.unverified.insert(.tasks)
        return nil
    }

    mutating func changeLeadership() -> String? {
        if model.running {
            endTerm()
            return nil
        }
        do {
            try dispatcher.start()
        } catch {
            return "the dispatcher did not start again: \(error)"
        }
        model.start()
        return nil
    }

    /// Ends the dispatcher's term, committing what it had queued, in the dispatcher and the model.
    mutating func endTerm() {
        dispatcher.stop()
        model.stop()
        flushes = dispatcher.core.counters.flushes
    }
}
