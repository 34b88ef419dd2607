import BeaconPrimitives

#if GRPC
public import BeaconClient
public import BeaconCore
public import BeaconDispatcher
import BeaconDispatcherAPI
import GRPCCore
public import Logging
import NIOCore

/// The node side of the dispatcher: SwarmKit's agent loop over gRPC.
///
/// ``run()`` opens a session on the first manager of its `ServerManager`, heartbeats on the
/// period each answer gives, applies the assignment stream with the core's
/// `AssignmentApplier` (a diff that does not follow the last one reopens the stream, which
/// starts with a COMPLETE set), and reports task statuses, all of them again on every new
/// session. When a session fails it waits a jittered, doubling back-off and starts another: on
/// the same manager when the manager answered but no longer knows the session, on the next one
/// (`ServerManager.notifyFailed(_:)`) when the manager is gone, stopped leading, or asked the
/// node to disconnect.
///
/// Every wait (the back-off, the heartbeat period, the watchdog, an assignment stream's reopening)
/// sleeps on the agent's `BeaconClock`, and the back-off's jitter comes from its random source,
/// so a test on a `ManualClock` with a seeded generator sees the same delays every run.
///
/// ```swift
/// let connections = try ManagerConnections()
/// let agent = try NodeAgent(
///     configuration: AgentConfiguration(node: NodeID("node-1"), managers: ["127.0.0.1:4242"]),
///     connections: connections)
/// let running = Task { try await agent.run() }
/// try agent.report(TaskStatusUpdate(taskID: "task-1", status: TaskStatus(state: .running)))
/// running.cancel()
/// await connections.close()
/// ```
public final class NodeAgent: LongRunningService {
    private struct State {
        var statuses = StatusBook()
        var assignments: AssignmentFollower
        var session: String?
        /// The last session, offered for resumption until a manager says it no longer knows it.
        var resumableSession: String?
        var hasRun = false
        /// When the current attempt to open a session began; nil once its first message came.
        var sessionRequested: BeaconInstant?
        var sessionsStarted = 0
        var lastSessionEnd: String?
        /// When the beat now awaiting its answer on the heartbeat stream was sent.
        var outstandingBeat: BeaconInstant?
        var lastHeartbeatSent: BeaconInstant?
        /// The last heartbeat datagram's number and the session it was sent on: a resumed session
        /// carries on from it, since its manager refuses any number not above the last it took.
        var lastDatagram: (session: String, sequence: UInt64)?
        /// The datagram session in progress, whose beats are numbered and timed in its inbox.
        var datagramInbox: HeartbeatDatagramSocket.Inbox?
        var backoff: Backoff
        /// When the current session started, until the back-off after it is drawn.
        var sessionStartedAt: BeaconInstant?
        var random: any RandomNumberGenerator & Sendable
        /// Managers whose last session attempt failed (not a redirect), and when: a redirect to
        /// one of them within the back-off's maximum is not followed.
        var failedAt: [String: BeaconInstant] = [:]
        /// The largest request the current session's manager reads, if it said.
        var managerRequestLimit: Int?
    }

    public let configuration: AgentConfiguration
    /// The agent's managers, in the order it tries them.
    public let managers: ServerManager
    private let connections: ManagerConnections
    private let clock: any BeaconClock
    private let state: PosixMutex<State>
    private let statusWakeup = Wakeup()
    /// Wakes the watchdog when a session begins, so it stops timing the request at once.
    private let watchdogWakeup = Wakeup()
    private let heartbeatObserver: HeartbeatObserver?
    private let eventSink: AsyncStream<AgentEvent>.Continuation
    private let logger: Logger
    private let metadata: Metadata

    /// The agent's events, oldest first; the newest 4 096 are kept for a slow reader. Read it
    /// from one task.
    public let events: AsyncStream<AgentEvent>

    /// Told of each heartbeat the manager accepted: when it was sent (on the agent's clock; the
    /// default `MonotonicClock` is comparable across processes on one machine) and its
    /// round-trip time.
    public typealias HeartbeatObserver = @Sendable (_ sent: BeaconInstant, _ roundTrip: Duration) -> Void

    /// Creates an agent; nothing is sent until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: the node, its first managers, and the agent's timeouts and limits.
    ///   - connections: the gRPC connections to managers, shared with other agents if wanted.
    ///   - heartbeatObserver: told of each heartbeat the manager accepted.
    ///   - clock: what every wait sleeps on and every instant the agent reports is read from.
    ///   - random: the back-off's jitter.
    ///   - logger: where sessions, failures and fail-overs are logged.
    /// - Throws: ``AgentError/invalidConfiguration(_:)`` for a manager address that makes no
    ///   server, or for datagram heartbeats on a clock other than `MonotonicClock` and
    ///   `ManualClock` (their scheduler's thread waits on the clock, and can wait only on those).
    public init(
        configuration: AgentConfiguration, connections: ManagerConnections,
        heartbeatObserver: HeartbeatObserver? = nil, clock: some BeaconClock = MonotonicClock(),
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        logger: Logger = Logger(label: "beacon.agent")
    ) throws(AgentError) {
        try configuration.validate()
        if configuration.heartbeatTransport == .datagrams, !(clock is MonotonicClock || clock is ManualClock) {
            throw ManagerConnections.unschedulable(clock)
        }
        self.configuration = configuration
        self.connections = connections
        self.heartbeatObserver = heartbeatObserver
        self.clock = clock
        self.logger = logger
        state = PosixMutex(
            State(
                assignments: AssignmentFollower(byteBudget: configuration.assignmentByteBudget),
                backoff: configuration.backoff, random: random))
        (events, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(4096))
        metadata = [DispatcherWire.nodeIDMetadataKey: .string(configuration.node.rawValue)]
        managers = ServerManager(
            pinger: ManagerPinger(connections: connections, node: configuration.node), cluster: SingleNode(),
            clock: clock)
        for (index, address) in configuration.managers.enumerated() {
            do {
                managers.add(try ManagedServer(name: "manager-\(index)@\(address)", address: address))
            } catch {
                throw .invalidConfiguration("manager \(address): \(error)")
            }
        }
    }

    // MARK: What the node does

    /// Records a task's status and reports it as soon as a session is open (a nil status forgets
    /// the task). Throws ``AgentError/invalidArgument(_:)`` for an empty task id, or a status
    /// larger than 16 KiB (or than the byte budget allows). A manager that reads smaller requests
    /// (it says so when the session starts) gets such a status with its error and message cut to
    /// fit, with an ``AgentEvent/statusCut(taskID:limit:)``.
    public func report(_ update: TaskStatusUpdate) throws(AgentError) {
        guard !update.taskID.isEmpty else { throw .invalidArgument("a status update names no task") }
        let size = StatusBook.encodedSize(of: update)
        let limit = StatusBook.maximumUpdateBytes(byteBudget: configuration.assignmentByteBudget)
        guard size <= limit else {
            throw .invalidArgument(
                "the status of task \(update.taskID) takes \(size) bytes; at most \(limit) fit in a report")
        }
        state.withLock { $0.statuses.record(update) }
        statusWakeup.signal()
    }

    /// The tasks assigned to the node, as of the last complete assignment message.
    public var tasks: [DispatchedTask] { state.withLock { $0.assignments.tasks } }

    /// The current session's id: nil between sessions; once ``run()`` was cancelled, the last one.
    public var session: String? { state.withLock { $0.session } }

    /// Sessions started since the agent was made.
    public var sessionsStarted: Int { state.withLock { $0.sessionsStarted } }

    /// When the last heartbeat was sent, answered or not (on the agent's clock).
    public var lastHeartbeatSent: BeaconInstant? {
        state.withLock { $0.datagramInbox?.lastBeat?.sent ?? $0.lastHeartbeatSent }
    }

    /// Why the last session ended, nil while the first one lasts.
    public var lastSessionEnd: String? { state.withLock { $0.lastSessionEnd } }

    /// Bytes of assignment diffs received since the agent was made.
    public var assignmentBytesReceived: Int { state.withLock { $0.assignments.bytesReceived } }

    /// Statuses not yet accepted by the current session.
    public var unacknowledgedStatuses: Int { state.withLock { $0.statuses.unsentCount } }

    /// Runs sessions until the task is cancelled (or `LifecycleService(agent)` in a
    /// `ServiceGroup` until a graceful shutdown). An agent runs once: a second call throws
    /// ``AgentError/alreadyRunning``.
    public func run() async throws(AgentError) {
        try state.withLock { state throws(AgentError) in
            guard !state.hasRun else { throw .alreadyRunning }
            state.hasRun = true
        }
        defer { eventSink.finish() }
        // Whether the last attempt was sent on by a redirect without a back-off.
        var justRedirected = false
        while !Task.isCancelled {
            guard let manager = managers.find() else { return }
            var redirected = false
            do {
                try await runSession(on: manager)
            } catch  where Task.isCancelled {
                return
            } catch {
                // A sharded deployment's manager that does not hold this node names the one
                // that does: that one goes next, at once, and this one is not counted as failed.
                // A redirect right after a redirect waits out the back-off, so two managers that
                // disagree for a moment (a table change in flight) cannot make the agent spin.
                //
                // An owner that just failed here is likely dead, with its lease not yet lapsed
                // (the others name it until it does): going back and forth between it and them
                // would cost two back-offs a round, so the agent stays with the manager that
                // answered and asks it again after one back-off, until the table moves on.
                if let owner = Self.owner(namedBy: error) {
                    let now = clock.now
                    let followed = state.withLock { state in
                        state.lastSessionEnd = "\(error)"
                        guard let failed = state.failedAt[owner.address] else { return true }
                        return now.duration(since: failed) > configuration.backoff.maximum
                    }
                    if followed {
                        managers.prefer(owner)
                        eventSink.yield(.redirected(manager: manager.address, owner: owner.address))
                        redirected = true
                    }
                    logger.debug(
                        "sent to the node's manager",
                        metadata: ["manager": "\(manager.address)", "owner": "\(owner)", "followed": "\(followed)"])
                } else {
                    endSession(on: manager, with: error)
                }
            }
            defer { justRedirected = redirected }
            let now = clock.now
            state.withLock { state in
                state.session = nil
                // Only a session that held for the back-off's maximum starts it over: a manager
                // that opens sessions and fails them at once (a message too large for this
                // agent, a datagram lane it cannot use) must not be retried every 100 ms. A
                // redirect that ends a long session starts it over too, for the redirect after it.
                if let started = state.sessionStartedAt {
                    state.backoff.reset(afterHolding: now.duration(since: started))
                    state.sessionStartedAt = nil
                }
            }
            if redirected, !justRedirected { continue }
            let delay = state.withLock { state in state.backoff.nextDelay(using: &state.random) }
            do {
                try await sleep(for: delay)
            } catch {
                return
            }
        }
    }

    /// A session that ended with `error`: one the manager forgot is opened again there; on any
    /// other failure the manager goes to the back of the list.
    private func endSession(on manager: ManagedServer, with error: any Error) {
        let sessionLost = Self.isSessionLost(error)
        let failedOver = !sessionLost
        let now = clock.now
        state.withLock { state in
            state.lastSessionEnd = "\(error)"
            if sessionLost { state.resumableSession = nil }
            if failedOver { state.failedAt[manager.address] = now }
        }
        if failedOver {
            // The managers' own list may have renamed this manager since the session began
            // (configured addresses are named `manager-N`, listed ones by node id): the entry
            // at the front for the same address is the one that failed.
            let front = managers.find().flatMap { $0.address == manager.address ? $0 : nil }
            managers.notifyFailed(front ?? manager)
        }
        eventSink.yield(.sessionEnded(manager: manager.address, reason: "\(error)", failedOver: failedOver))
        logger.debug(
            "session ended",
            metadata: ["manager": "\(manager.address)", "error": "\(error)", "failedOver": "\(failedOver)"])
    }

    /// The session's last message moved this node to another manager, which it lists first.
    struct SentToOwner: Error {
        let owner: ManagedServer
    }

    /// The manager a FailedPrecondition answer names as the node's owner (see
    /// `DispatcherError.wrongManager(node:owner:)`), or the one a last session message moved
    /// it to; nil for any other answer.
    static func owner(namedBy error: any Error) -> ManagedServer? {
        if let sent = error as? SentToOwner { return sent.owner }
        guard let error = error as? RPCError, error.code == .failedPrecondition else { return nil }
        let ids = error.metadata[stringValues: DispatcherError.ownerIDMetadataKey]
        let addresses = error.metadata[stringValues: DispatcherError.ownerAddressMetadataKey]
        guard let id = ids.first(where: { _ in true }), let address = addresses.first(where: { _ in true }) else {
            return nil
        }
        return try? ManagedServer(name: id, address: address)
    }

    /// The manager answered but no longer knows the session (the node expired, or its session
    /// was replaced): open a new one on the same manager. Anything else moves to the next.
    private static func isSessionLost(_ error: any Error) -> Bool {
        guard let error = error as? RPCError else { return false }
        return error.code == .notFound || error.code == .invalidArgument
    }

    // MARK: One session

    private func runSession(on manager: ManagedServer) async throws {
        let client = try connections.client(for: manager.address, node: configuration.node)
        let unaryCalls = try connections.client(for: manager.address, node: configuration.node, purpose: .unaryCalls)
        let (started, startedSink) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { state in
            state.sessionRequested = clock.now
            state.outstandingBeat = nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.followSession(client, on: manager, started: startedSink) }
            group.addTask { try await self.watchdog(started: startedSink) }
            var firstSession = started.makeAsyncIterator()
            guard let session = await firstSession.next() else {
                try await group.next()
                throw AgentError.sessionClosed
            }
            let resent = state.withLock { state in
                state.session = session
                state.resumableSession = session
                state.sessionRequested = nil
                state.sessionsStarted += 1
                state.sessionStartedAt = clock.now
                state.failedAt[manager.address] = nil
                state.statuses.sessionStarted()
                return state.statuses.unsentCount
            }
            watchdogWakeup.signal()
            eventSink.yield(.sessionStarted(manager: manager.address, session: session))
            logger.debug("session started", metadata: ["manager": "\(manager.address)", "resending": "\(resent)"])
            statusWakeup.signal()
            switch configuration.heartbeatTransport {
            case .stream: group.addTask { try await self.heartbeatOverStream(client, session: session) }
            case .unaryCalls: group.addTask { try await self.heartbeat(unaryCalls, session: session) }
            case .datagrams: group.addTask { try await self.heartbeatOverDatagrams(to: manager, session: session) }
            }
            group.addTask { try await self.reportStatuses(unaryCalls, session: session) }
            if configuration.followsAssignments {
                group.addTask { try await self.followAssignments(client, session: session) }
            }
            // The first task to end ends the session; leaving the group cancels the others.
            try await group.next()
            throw AgentError.sessionClosed
        }
    }

    private func followSession(
        _ client: ManagerConnections.Client, on manager: ManagedServer, started: AsyncStream<String>.Continuation
    ) async throws {
        defer { started.finish() }
        var request = Beacon_Dispatcher_V1_SessionRequest()
        if let description = configuration.description {
            request.description_p = .with {
                $0.hostname = description.hostname
                $0.attributes = description.attributes
            }
        }
        request.address = configuration.address
        let resumable = state.withLock { state in
            state.managerRequestLimit = nil
            return state.resumableSession
        }
        request.sessionID = resumable ?? ""
        try await client.session(request, metadata: metadata) { response in
            // Before the first message, which starts the session and its status reports.
            // A limit below the servers' own floor is not one a manager would send: ignored.
            let limit = response.metadata[stringValues: DispatcherWire.requestLimitMetadataKey].first { _ in true }
                .flatMap { Int($0) }.flatMap { $0 >= DispatcherWire.minimumMessageLimit ? $0 : nil }
            self.state.withLock { $0.managerRequestLimit = limit }
            for try await message in response.messages {
                if !message.managers.isEmpty { self.updateManagers(message.managers) }
                if message.disconnect {
                    // A sharded manager letting go of this node lists its new owner first.
                    if let first = message.managers.first.map(WeightedManager.init), first.address != manager.address,
                        let owner = try? ManagedServer(name: first.nodeID, address: first.address)
                    {
                        throw SentToOwner(owner: owner)
                    }
                    throw AgentError.disconnected
                }
                started.yield(message.sessionID)
            }
        }
        throw AgentError.sessionClosed
    }

    private func updateManagers(_ list: [Beacon_Dispatcher_V1_WeightedManager]) {
        do {
            try ManagerListAdapter(feeding: managers).apply(list.map(WeightedManager.init))
        } catch {
            logger.warning("ignored a malformed manager list", metadata: ["error": "\(error)"])
        }
    }

    private func heartbeat(_ client: ManagerConnections.Client, session: String) async throws {
        let request = Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }
        let options = callOptions()
        try await beatUntilTheSessionEnds { _ in
            try await client.heartbeat(request, metadata: metadata, options: options).periodNanoseconds
        }
    }

    /// Beats, each once the last one's answer has come and its period has passed: `send`
    /// delivers the beat sent at the given instant and returns the period its answer gives.
    private func beatUntilTheSessionEnds(_ send: (BeaconInstant) async throws -> Int64) async throws {
        while true {
            let sent = clock.now
            state.withLock { $0.lastHeartbeatSent = sent }
            let period = try await send(sent)
            heartbeatObserver?(sent, clock.now.duration(since: sent))
            guard period > 0 else { throw AgentError.invalidPeriod(period) }
            try await sleep(for: .nanoseconds(period))
        }
    }

    /// Beats as messages on one stream. ``watchdog(started:)`` ends the session if an answer is
    /// late.
    private func heartbeatOverStream(_ client: ManagerConnections.Client, session: String) async throws {
        let request = Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }
        let (answers, answerSink) = AsyncStream<Int64>.makeStream(bufferingPolicy: .bufferingNewest(1))
        var options = CallOptions.defaults
        options.waitForReady = false
        try await client.heartbeatStream(metadata: metadata, options: options) { writer in
            var periods = answers.makeAsyncIterator()
            try await self.beatUntilTheSessionEnds { sent in
                self.state.withLock { $0.outstandingBeat = sent }
                try await writer.write(request)
                guard let period = await periods.next() else { throw AgentError.sessionClosed }
                self.state.withLock { $0.outstandingBeat = nil }
                return period
            }
        } onResponse: { response in
            defer { answerSink.finish() }
            for try await answer in response.messages { answerSink.yield(answer.periodNanoseconds) }
            throw AgentError.sessionClosed
        }
    }

    /// Beats as datagrams to the manager's host, on its gRPC port number, once per period,
    /// without waiting for answers: a lost datagram costs nothing, since the next beat stands in
    /// for it well within the grace the manager allows. Answers arrive in the session's inbox,
    /// which gives the next period. The session ends when two beats in a row, and at least the
    /// call timeout, have passed without an answer.
    ///
    /// The first beat is sent from here, and again every quarter of the timeout until its answer
    /// brings the period, for at most the timeout. The rest go from the connections'
    /// ``DatagramBeatScheduling``, which beats every session of the agents on this clock from one
    /// thread, so this task sleeps until the session ends.
    private func heartbeatOverDatagrams(to manager: ManagedServer, session text: String) async throws {
        let session: SessionID
        do {
            session = try SessionID(text)
        } catch {
            throw AgentError.invalidArgument("the manager gave a malformed session id, \(text)")
        }
        let resolved = try await HeartbeatDatagramSocket.destinations(of: ManagerAddress(manager.address))
        // A family this host cannot open a socket in (IPv6 turned off, say) is skipped: the
        // manager may well be reachable in the other.
        var sockets: [Bool: HeartbeatDatagramSocket] = [:]
        var unusable: [Bool: any Error] = [:]
        for destination in resolved {
            let ipv6 = destination.protocol == .inet6
            guard sockets[ipv6] == nil, unusable[ipv6] == nil else { continue }
            do {
                sockets[ipv6] = try await connections.datagramSocket(ipv6: ipv6)
            } catch {
                unusable[ipv6] = error
            }
        }
        let destinations = resolved.filter { sockets[$0.protocol == .inet6] != nil }
        if destinations.isEmpty, let failure = unusable.values.first { throw failure }
        for (ipv6, error) in unusable {
            logger.debug(
                "skipping the manager's addresses of a family this host cannot use",
                metadata: ["manager": "\(manager.address)", "family": "\(ipv6 ? "IPv6" : "IPv4")", "error": "\(error)"])
        }
        let resumedAfter = state.withLock { $0.lastDatagram?.session == text ? $0.lastDatagram?.sequence : nil }
        let inbox = HeartbeatDatagramSocket.Inbox(
            session: session, after: resumedAfter ?? 0, clock: clock, observer: heartbeatObserver)
        for socket in sockets.values { socket.register(inbox) }
        state.withLock { $0.datagramInbox = inbox }
        defer {
            for socket in sockets.values { socket.unregister(inbox) }
            // The numbers this session used, for a resumed session to carry on from.
            state.withLock { state in
                state.datagramInbox = nil
                if let last = inbox.lastBeat {
                    state.lastDatagram = (text, last.sequence)
                    state.lastHeartbeatSent = last.sent
                }
            }
        }
        let timeout = configuration.callTimeout
        func beat(to destination: SocketAddress) -> UInt64 {
            let beat = inbox.numberBeat()
            sockets[destination.protocol == .inet6]?.send(
                [.init(session: session, sequence: beat.sequence, destination: destination)])
            return beat.sequence
        }

        // The first period. A name that resolves to several addresses gets a beat at each in
        // turn; the one that answers takes the rest.
        let start = clock.now
        let giveUpAt = start.advanced(by: timeout)
        var sentTo = [beat(to: destinations[0]): 0]
        var period: Duration
        var destination: SocketAddress
        while true {
            await inbox.arrived.wait(until: min(clock.now.advanced(by: timeout / 4), giveUpAt), on: clock)
            try Task.checkCancellation()
            let standing = inbox.standing
            if let answered = standing.period {
                period = answered
                destination = destinations[sentTo[standing.lastAnswered] ?? 0]
                break
            }
            guard clock.now < giveUpAt else { throw DatagramBeating.silent(after: timeout) }
            let next = sentTo.count % destinations.count
            sentTo[beat(to: destinations[next])] = next
        }

        // The rest go from the connections' beat scheduler, with every other session's due then.
        // Every destination's family got its socket above; the optional is the dictionary's.
        guard let socket = sockets[destination.protocol == .inet6] else { throw AgentError.sessionClosed }
        let beating = DatagramBeating(inbox: inbox, socket: socket, destination: destination, timeout: timeout)
        let scheduler = try connections.beatScheduler(clock: clock)
        try scheduler.start(beating, after: period)
        defer { scheduler.stop(beating) }
        throw try await beating.ending(on: clock)
    }

    /// Ends the session when the manager stops answering without a word (a peer that lost
    /// power leaves its connection looking open): when a session's first message, or the answer
    /// to a beat on the heartbeat stream, has waited longer than the call timeout.
    ///
    /// It sleeps until the oldest wait in progress would be overdue, or, with none in progress,
    /// for one timeout (a wait that starts meanwhile cannot be overdue sooner). While beats are
    /// answered it wakes about once per timeout, not per beat: a load generator runs thousands of
    /// agents in one process, and each wake is a timer and a task switch. Beats by unary call or
    /// datagram are timed where they are sent, so once such a session has begun the watchdog
    /// has nothing left to watch and waits for the session to end.
    private func watchdog(started: AsyncStream<String>.Continuation) async throws {
        let timeout = configuration.callTimeout
        while true {
            let now = clock.now
            let (requested, beat) = state.withLock { ($0.sessionRequested, $0.outstandingBeat) }
            if let requested, now.duration(since: requested) > timeout {
                started.finish()
                throw AgentError.timedOut("no session within \(timeout)")
            }
            if let beat, now.duration(since: beat) > timeout {
                throw AgentError.timedOut("no heartbeat answer within \(timeout)")
            }
            // Only the heartbeat stream's answers are watched once the session has begun.
            let watching = requested != nil || configuration.heartbeatTransport == .stream
            let oldest = [requested, beat].compactMap { $0 }.min() ?? now
            // Overdue means more than the timeout, so look one nanosecond after it.
            await watchdogWakeup.wait(
                until: watching ? oldest.advanced(by: timeout + .nanoseconds(1)) : nil, on: clock)
            try Task.checkCancellation()
        }
    }

    private func reportStatuses(_ client: ManagerConnections.Client, session: String) async throws {
        while true {
            let (limit, batch, cut) = state.withLock { state in
                let limit = min(configuration.assignmentByteBudget, state.managerRequestLimit ?? .max)
                let (batch, cut) = state.statuses.nextBatch(limit: configuration.statusBatchLimit, maximumBytes: limit)
                return (limit, batch, cut)
            }
            for task in cut {
                eventSink.yield(.statusCut(taskID: task, limit: limit))
                logger.warning(
                    "status cut to fit the manager's request limit", metadata: ["task": "\(task)", "limit": "\(limit)"])
            }
            if batch.isEmpty {
                await statusWakeup.wait(until: nil, on: clock)
                try Task.checkCancellation()
                continue
            }
            do {
                try await send(batch, client, session: session)
            } catch let error as RPCError where error.code == .permissionDenied {
                // The dispatcher refuses the whole report if one task in it is not this node's
                // (it was reassigned while the node was away): find it by sending one at a time.
                for update in batch {
                    do {
                        try await send([update], client, session: session)
                    } catch let error as RPCError where error.code == .permissionDenied {
                        state.withLock { $0.statuses.refused(update) }
                        eventSink.yield(.statusRefused(taskID: update.taskID, reason: error.message))
                        logger.warning(
                            "status refused", metadata: ["task": "\(update.taskID)", "error": "\(error.message)"])
                    }
                }
            }
        }
    }

    private func send(_ batch: [TaskStatusUpdate], _ client: ManagerConnections.Client, session: String) async throws {
        let request = Beacon_Dispatcher_V1_UpdateTaskStatusRequest.with {
            $0.sessionID = session
            $0.updates = batch.map(Beacon_Dispatcher_V1_TaskStatusUpdate.init)
        }
        _ = try await client.updateTaskStatus(request, metadata: metadata, options: callOptions())
        state.withLock { $0.statuses.acknowledged(batch) }
        eventSink.yield(.statusesAcknowledged(batch.count))
    }

    private func followAssignments(_ client: ManagerConnections.Client, session: String) async throws {
        let request = Beacon_Dispatcher_V1_AssignmentsRequest.with { $0.sessionID = session }
        // A manager with a larger budget cuts this node's messages to the agent's own.
        var metadata = metadata
        metadata.addString(
            "\(configuration.assignmentByteBudget)", forKey: DispatcherWire.assignmentByteBudgetMetadataKey)
        var options = CallOptions.defaults
        let largestMessage = DispatcherWire.maximumAssignmentsMessageBytes(
            byteBudget: configuration.assignmentByteBudget)
        options.maxResponseMessageBytes = largestMessage
        // grpc-swift-nio-transport's client limits the messages it *receives* by the request
        // limit (4 MiB unless set), and reads no response limit: without this, a budget above
        // 4 MiB made every COMPLETE set that large end the session, again and again. The request
        // itself is a session id.
        options.maxRequestMessageBytes = largestMessage
        options.waitForReady = false
        while true {
            state.withLock { $0.assignments.streamOpened() }
            do {
                try await client.assignments(request, metadata: metadata, options: options) { response in
                    for try await wire in response.messages { try self.apply(wire) }
                }
                throw AgentError.sessionClosed
            } catch let reopen as AssignmentReopen {
                // Reopening the stream starts it with a COMPLETE set.
                eventSink.yield(.assignmentGap("\(reopen.gap)"))
                logger.debug("assignment gap: asking for a complete set", metadata: ["error": "\(reopen.gap)"])
                guard let delay = reopen.delay else { throw reopen.gap }
                if delay > .zero { try await sleep(for: delay) }
            } catch let error as RPCError where Self.endedBehind(error) {
                // The manager ended the stream because this node read it too slowly; the
                // reopened stream starts with a COMPLETE set, so nothing is lost.
                let delay = state.withLock { $0.assignments.streamEndedBehind() }
                eventSink.yield(.assignmentGap(error.message))
                logger.debug(
                    "assignments fell behind: asking for a complete set", metadata: ["error": "\(error.message)"])
                guard let delay else { throw error }
                if delay > .zero { try await sleep(for: delay) }
            }
        }
    }

    /// Whether the manager ended the assignment stream because this node read it too slowly, as
    /// opposed to another ResourceExhausted (this side's transport refusing a message as too
    /// large is one too).
    private static func endedBehind(_ error: RPCError) -> Bool {
        error.code == .resourceExhausted
            && error.metadata[stringValues: DispatcherError.assignmentsBehindMetadataKey].first(where: { _ in true })
                != nil
    }

    /// Thrown from the stream's response handler to leave the stream when a message does not
    /// follow the set held: the follower's verdict, with `delay` nil when the session is given up.
    private struct AssignmentReopen: Error {
        let gap: AssignmentApplyError
        let delay: Duration?
    }

    /// Hands a message to the follower and carries out its verdict.
    private func apply(_ wire: Beacon_Dispatcher_V1_AssignmentsMessage) throws {
        let diff = [UInt8](wire.diff)
        let action = state.withLock { state in
            let action = state.assignments.receive(
                kind: wire.kind.rawValue, appliesTo: wire.appliesTo, resultsIn: wire.resultsIn, diff: diff)
            if case .settled(let tasks, _, _) = action { state.statuses.assignmentsSettled(Set(tasks.map(\.id))) }
            return action
        }
        switch action {
        case .partApplied:
            return
        case .settled(let tasks, let complete, let bytes):
            eventSink.yield(.assignmentsApplied(tasks: tasks.count, complete: complete, bytes: bytes))
        case .refuse(let error):
            throw error
        case .reopen(let gap, let delay):
            throw AssignmentReopen(gap: gap, delay: delay)
        case .giveUp(let gap):
            throw AssignmentReopen(gap: gap, delay: nil)
        }
    }

    /// Waits `duration` on the agent's clock; throws `CancellationError` if the task is cancelled.
    private func sleep(for duration: Duration) async throws {
        try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil)
    }

    private func callOptions() -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = configuration.callTimeout
        // Fail at once while the manager is unreachable, so the agent can move on.
        options.waitForReady = false
        return options
    }
}

/// The agent only fails over; it reports a cluster of one node so a rebalance, if someone runs
/// one, waits the minimum interval.
private struct SingleNode: ClusterInfo {
    var nodeCount: Int { 1 }
}
#endif
