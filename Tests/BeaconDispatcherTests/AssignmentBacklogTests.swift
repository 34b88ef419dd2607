import BeaconCore
import Testing

@testable import BeaconDispatcher

/// A node that stops reading its assignment stream costs the dispatcher a bounded backlog: past
/// `assignmentBacklogLimit` bytes of INCREMENTAL messages waiting, the stream ends with
/// `assignmentsBehind`, and reopening it brings the whole set back.
@Suite struct AssignmentBacklogTests {
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
        _ dispatcher: VirtualDispatcher, _ node: NodeID, _ session: SessionID
    ) throws -> DispatcherStream<AssignmentMessage> {
        let (stream, sink) = DispatcherStream<AssignmentMessage>.make(
            keepingNewest: nil, backlog: AssignmentBacklog(limit: dispatcher.core.configuration.assignmentBacklogLimit))
        try dispatcher.core.openAssignments(node: node, session: session, at: dispatcher.now, sink)
        return stream
    }

    /// One task of about 1 KiB, sent as its own INCREMENTAL batch.
    private func assign(_ index: Int, to node: NodeID, _ dispatcher: VirtualDispatcher) {
        dispatcher.store.putTask(
            DispatchedTask(
                id: "task\(index)", nodeID: node, status: TaskStatus(state: .running),
                spec: [UInt8](repeating: UInt8(index), count: 1000)))
        dispatcher.advance(by: .milliseconds(100))
    }

    @Test func aReaderThatFallsBehindIsToldSoAndAReopenedStreamHoldsEveryTask() async throws {
        let (dispatcher, node, session, stream) = try fixture()
        for index in 0..<10 { assign(index, to: node, dispatcher) }

        var incrementalBytes = 0
        var kinds: [AssignmentMessageKind] = []
        var ending: DispatcherError?
        do {
            for try await message in stream {
                kinds.append(message.kind)
                if message.kind == .incremental { incrementalBytes += message.bytes.count }
            }
        } catch {
            ending = error
        }
        #expect(ending == .assignmentsBehind(limit: Self.limit))
        #expect(kinds.first == .complete)
        #expect(kinds.count > 2 && kinds.count < 11)
        #expect(incrementalBytes <= Self.limit)

        let agent = AgentModel()
        var reopened = try open(dispatcher, node, session).makeAsyncIterator()
        while let message = try await reopened.next() {
            agent.receive(.message(message))
            if message.isFinalPart { break }
        }
        #expect(agent.messages.first?.kind == .complete)
        #expect(agent.held == Set((0..<10).map { "task task\($0)" }))
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
        #expect(throws: DispatcherError.self) { try configuration.validate() }
    }
}
