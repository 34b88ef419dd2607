import BeaconCore

/// The `DispatcherRequestFuzz` libFuzzer target's logic: the dispatcher's request handling below
/// the transport, as the gRPC service drives it — a session text parsed with ``SessionID``, then
/// a registration, heartbeat or status batch on the ``DispatcherCore`` of a ``VirtualDispatcher``
/// — and the node-id decision from call metadata (``NodeIdentity``).
///
/// The first byte shapes the dispatcher (jitter or none, rate limit on or off, status batch
/// limit). Every further byte starts a request from one of five nodes (three in the store, one
/// that joins later, one the store never knows): register or resume, heartbeat, status batch,
/// clock advance, identity check, an orchestrator change (the late node joins, a task moves) or
/// a leadership change. A request's session text is the node's real one, another node's, a stale
/// one, a one-digit mutation, a near miss, a guessed secret on the right slot, or arbitrary bytes;
/// a batch mixes own tasks, other nodes' and unassigned tasks, unknown ids, repeats, states going
/// backwards and empty statuses.
///
/// ``DispatcherRequestModel`` predicts every answer and after each request the harness checks:
/// a session text parses exactly when the model's parser accepts it and reads back as itself;
/// every refusal carries the documented error and changes nothing (queued writes, sessions,
/// deadlines of every node); an issued session is new, round-trips through its text and is the
/// only one its node holds; a batch naming another node's task queues nothing; expiries fall
/// within the drawn deadlines and none is missed; queued writes flush on time and the store ends
/// with what the model says.
///
/// It lives in the library (with `package` access) so unit tests replay the committed inputs
/// through the same code. Not for use outside Beacon's tests and fuzzers.
package enum DispatcherRequestFuzzHarness {
    /// Requests read per input at most: enough to register, expire, return and report, few
    /// enough that the target runs thousands of inputs a second.
    static let maximumRequests = 32

    /// Runs one input; returns a description of the first broken rule, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var reader = FuzzByteReader(input)
        do {
            var run = try Run(shape: reader.byte())
            var requests = 0
            while requests < maximumRequests, let request = reader.next() {
                requests += 1
                if let failure = run.step(request, &reader) { return "request \(requests): \(failure)" }
                if let failure = run.check() { return "after request \(requests): \(failure)" }
            }
            return run.finish()
        } catch {
            return "unexpected error: \(error)"
        }
    }

    /// Expiries the dispatcher reported during one clock advance.
    final class ExpiryLog {
        var reports: [(node: NodeID, at: BeaconInstant)] = []
    }

    /// One input's dispatcher, the model that shadows it, and what the model has accounted for.
    struct Run {
        static let names = ["node-a", "node-b", "node-c", "late", "ghost"]
        /// The node that is not in the store until an orchestrator request creates it.
        static let late = 3
        /// Ids no task has: near misses of real ones.
        static let unknownTaskIDs = ["gone", "", "a1 ", "A1"]
        /// Claims and certificate names for identity checks: the nodes, an empty name, a
        /// precomposed and a decomposed "café" (equal as Swift strings, different bytes), near misses.
        static let identityNames = names + ["", "caf\u{E9}", "cafe\u{301}", "NODE-A", "node-a\u{0}"]

        let dispatcher: VirtualDispatcher
        let ids: [NodeID]
        let expiries = ExpiryLog()
        var model: DispatcherRequestModel
        /// The dispatcher's flush count the model has accounted for.
        var flushes: Int
        var requests = 0

        init(shape: Int) throws(DispatcherError) {
            var configuration = DispatcherConfiguration()
            configuration.heartbeatPeriod = .seconds(1)
            configuration.heartbeatJitter = shape & 1 == 0 ? .milliseconds(100) : .zero
            configuration.rateLimitPeriod = shape & 2 == 0 ? .seconds(8) : .zero
            configuration.statusBatchLimit = [10_000, 1, 3, 8][(shape >> 2) & 3]
            configuration.orphanAfter = .seconds(30)
            configuration.expiryResolution = .milliseconds(10)
            // Registrations take at most one wheel record per request, so this never fills.
            configuration.maximumNodes = 2 * DispatcherRequestFuzzHarness.maximumRequests
            let ids = try Self.names.map { name throws(DispatcherError) in try NodeID(name) }
            self.ids = ids
            let store = InMemoryDispatcherStore()
            store.createNodes(ids[0..<Self.late])
            let tasks: [DispatcherRequestModel.Task] = [
                .init(id: "a1", owner: 0, status: TaskStatus(state: .assigned)),
                .init(id: "a2", owner: 0, status: TaskStatus(state: .running)),
                .init(id: "b1", owner: 1, status: TaskStatus(state: .new)),
                .init(id: "b2", owner: 1, status: TaskStatus(state: .starting)),
                .init(id: "c1", owner: 2, status: TaskStatus(state: .complete)),
                .init(id: "l1", owner: Self.late, status: TaskStatus(state: .assigned)),
                .init(id: "free", owner: nil, status: TaskStatus(state: .pending)),
            ]
            for task in tasks {
                store.putTask(DispatchedTask(id: task.id, nodeID: task.owner.map { ids[$0] }, status: task.status))
            }
            let resolved = try configuration.resolved()
            let settings = DispatcherRequestModel.Settings(
                periodMicros: resolved.periodMicros, jitterMicros: resolved.jitterMicros,
                grace: resolved.grace, unknownGrace: resolved.unknownGrace,
                rateWindowMicros: Self.micros(configuration.rateLimitPeriod), rateCount: configuration.rateLimitCount,
                batchLimit: configuration.statusBatchLimit,
                batchIntervalMicros: Self.micros(configuration.statusBatchInterval),
                orphanAfterMicros: Self.micros(configuration.orphanAfter),
                slotMicros: Self.micros(configuration.expiryResolution))
            model = DispatcherRequestModel(
                settings: settings,
                nodes: ids.indices.map { index in
                    .init(
                        id: ids[index], inStore: index < Self.late,
                        stored: index < Self.late ? NodeStatus(state: .unknown) : nil)
                },
                tasks: tasks)
            dispatcher = try VirtualDispatcher(configuration: configuration, store: store)
            let expiries = expiries
            dispatcher.core.expiryObserver = { node, instant in expiries.reports.append((node, instant)) }
            try dispatcher.start()
            model.start()
            flushes = dispatcher.core.counters.flushes
        }

        static func micros(_ duration: Duration) -> UInt64 {
            let (seconds, attoseconds) = duration.components
            return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
        }

        mutating func step(_ request: UInt8, _ reader: inout FuzzByteReader) -> String? {
            requests += 1
            switch request % 16 {
            case 0, 1, 2: return heartbeat(&reader)
            case 3, 4, 5: return updateTaskStatus(&reader)
            case 6, 7: return register(&reader)
            case 8, 9, 10: return advance(&reader)
            case 11, 12: return identify(&reader)
            case 13: return orchestrate(&reader)
            case 14: return changeLeadership()
            default: return advance(&reader)
            }
        }
    }
}
