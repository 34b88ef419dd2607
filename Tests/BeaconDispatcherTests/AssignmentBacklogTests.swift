import BeaconCore
import BeaconPrimitives
import Testing

@testable import BeaconDispatcher

/// A node that stops reading its assignment stream costs the dispatcher a bounded backlog: past
/// `assignmentBacklogLimit` of INCREMENTAL messages waiting (bytes and a fixed overhead each),
/// the stream ends with `assignmentsBehind`, and reopening it brings the whole set back.
@Suite(.timeLimit(.minutes(1))) struct AssignmentBacklogTests {
    static let limit = 4096

    /// A dispatcher whose limit is four 1 KiB tasks, and the node's stream, opened as
    /// `Dispatcher.assignments` opens it.
    private func fixture() throws -> (VirtualDispatcher, NodeID, SessionID, DispatcherStream<AssignmentMessage>) {
        var configuration = DispatcherConfiguration()
        configuration.assignmentBatching = try AssignmentBatcherConfiguration(byteBudget: Self.limit)
        configuration.assignmentBacklogLimit = Self.limit
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        let stream = try open(dispatcher, node, session)
        return (dispatcher, node, session, stream)
    }

    private func open(
        _ dispatcher: VirtualDispatcher, _ node: NodeID, _ session: SessionID,
        onOverflow: @escaping @Sendable () -> Void = {}
    ) throws -> DispatcherStream<AssignmentMessage> {
        let backlog = AssignmentBacklog(
            limit: dispatcher.core.configuration.assignmentBacklogLimit, onOverflow: onOverflow)
        let (stream, sink) = DispatcherStream<AssignmentMessage>.make(keepingNewest: nil, backlog: backlog)
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, sink)
        return stream
    }

    /// One task of about 1 KiB; `advance` sends it as its own INCREMENTAL batch.
    private func assign(_ index: Int, to node: NodeID, _ dispatcher: VirtualDispatcher, advance: Bool = true) {
        dispatcher.store.putTask(
            DispatchedTask(
                id: "task\(index)", nodeID: node, status: TaskStatus(state: .running),
                spec: [UInt8](repeating: UInt8(index), count: 1000)))
        if advance { dispatcher.advance(by: .milliseconds(100)) }
    }

    private func weight(_ message: AssignmentMessage) -> Int {
        message.bytes.count + AssignmentBacklog.perMessageOverhead
    }

    @Test func aReaderThatFallsBehindIsToldSoAndAReopenedStreamHoldsEveryTask() async throws {
        let (dispatcher, node, session, _) = try fixture()
        let overflows = PosixMutex(0)
        let stream = try open(dispatcher, node, session) { overflows.withLock { $0 += 1 } }
        for index in 0..<10 { assign(index, to: node, dispatcher) }
        // Counted once, for the metric, however many batches follow the one that did not fit.
        #expect(overflows.withLock { $0 } == 1)

        var kinds: [AssignmentMessageKind] = []
        var incrementalWeights: [Int] = []
        var ending: DispatcherError?
        do {
            for try await message in stream {
                kinds.append(message.kind)
                if message.kind == .incremental { incrementalWeights.append(weight(message)) }
            }
        } catch {
            ending = error
        }
        #expect(ending == .assignmentsBehind(limit: Self.limit))
        #expect(kinds.first == .complete)
        // Exactly the batches that fit: one more of the same size would not have.
        let waited = incrementalWeights.reduce(0, +)
        #expect(incrementalWeights.count == kinds.count - 1)
        #expect(waited <= Self.limit)
        #expect(waited + (incrementalWeights.max() ?? 0) > Self.limit)

        // The reopened stream's COMPLETE set is larger than the limit, and still gets through.
        let agent = AgentModel()
        var reopened = try open(dispatcher, node, session).makeAsyncIterator()
        while let message = try await reopened.next() {
            agent.receive(.message(message))
            if message.isFinalPart { break }
        }
        #expect(agent.messages.count > 1)
        #expect(agent.messages.map(\.bytes.count).reduce(0, +) > Self.limit)
        #expect(agent.messages.first?.kind == .complete)
        #expect(agent.held == Set((0..<10).map { "task task\($0)" }))
    }

    /// Once a stream has ended past its limit, the node's changes are no longer encoded for it:
    /// the dispatcher counts no message after the one that did not fit, until the node opens a new
    /// stream.
    @Test func aStreamEndedBehindIsNoLongerFed() throws {
        let (dispatcher, node, session, _) = try fixture()
        let overflows = PosixMutex(0)
        // Held, unread: a reader that stalled, not one that left.
        let stream = try open(dispatcher, node, session) { overflows.withLock { $0 += 1 } }
        var index = 0
        withExtendedLifetime(stream) {
            while overflows.withLock({ $0 }) == 0 {
                assign(index, to: node, dispatcher)
                index += 1
            }
        }
        let encoded = dispatcher.core.counters.assignmentMessages
        withExtendedLifetime(stream) {
            for later in index..<(index + 5) { assign(later, to: node, dispatcher) }
        }
        #expect(dispatcher.core.assignmentStreamCount == 0)
        #expect(dispatcher.core.counters.assignmentMessages == encoded)

        // A new stream is fed again.
        let agent = AgentModel()
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, agent.receive)
        assign(index + 5, to: node, dispatcher)
        #expect(dispatcher.core.assignmentStreamCount == 1)
        #expect(agent.held.contains("task task\(index + 5)"))
        #expect(dispatcher.core.counters.assignmentMessages > encoded)
    }

    /// A stream whose reader has gone (the node's call ended, its connection dropped) stops being
    /// fed at the first message it cannot take.
    @Test func aStreamWhoseReaderLeftIsNoLongerFed() throws {
        // The stream is dropped at once, as by a reader that left.
        let (dispatcher, node, _, _) = try fixture()
        #expect(dispatcher.core.assignmentStreamCount == 1)
        let sent = dispatcher.core.counters.assignmentMessages
        for index in 0..<5 { assign(index, to: node, dispatcher) }
        #expect(dispatcher.core.assignmentStreamCount == 0)
        // The message the stream could not take is not counted as sent.
        #expect(dispatcher.core.counters.assignmentMessages == sent)
    }

    /// A batch larger than the limit goes whole to a reader that keeps up: its parts arrive
    /// together, with no turn for the reader in between.
    @Test func oneBatchLargerThanTheLimitReachesAReaderThatKeepsUp() async throws {
        let (dispatcher, node, _, stream) = try fixture()
        var messages = stream.makeAsyncIterator()
        let agent = AgentModel()
        agent.receive(.message(try #require(try await messages.next())))
        for index in 0..<10 { assign(index, to: node, dispatcher, advance: false) }
        dispatcher.advance(by: .milliseconds(100))
        var parts = 0
        while let message = try await messages.next() {
            agent.receive(.message(message))
            parts += 1
            if message.isFinalPart { break }
        }
        #expect(parts > 1)
        #expect(agent.held == Set((0..<10).map { "task task\($0)" }))
        assign(10, to: node, dispatcher)
        agent.receive(.message(try #require(try await messages.next())))
        #expect(agent.held.contains("task task10"))
    }

    @Test func aReaderThatKeepsUpIsNeverCutOff() async throws {
        let (dispatcher, node, _, stream) = try fixture()
        var messages = stream.makeAsyncIterator()
        #expect(try await messages.next()?.kind == .complete)
        var incrementalBytes = 0
        for index in 0..<40 {
            assign(index, to: node, dispatcher)
            let message = try await messages.next()
            #expect(message?.kind == .incremental)
            incrementalBytes += message?.bytes.count ?? 0
        }
        #expect(incrementalBytes > 8 * Self.limit)
    }

    @Test func aBacklogLimitBelowOneMessageIsRefused() throws {
        var configuration = DispatcherConfiguration()
        configuration.assignmentBacklogLimit = configuration.assignmentBatching.byteBudget - 1
        #expect(
            throws: DispatcherError.invalidConfiguration(
                "assignmentBacklogLimit 1048575 must be at least the assignment byte budget 1048576")
        ) {
            try configuration.validate()
        }
    }
}
