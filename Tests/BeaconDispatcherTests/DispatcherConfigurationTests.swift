import BeaconCore
import Testing

@testable import BeaconDispatcher

@Suite struct DispatcherConfigurationTests {
    @Test func defaultsAreSwarmKits() {
        let configuration = DispatcherConfiguration()
        #expect(configuration.heartbeatPeriod == .seconds(5))
        #expect(configuration.heartbeatJitter == .milliseconds(500))
        #expect(configuration.graceMultiplier == 3)
        #expect(configuration.rateLimitPeriod == .seconds(8))
        #expect(configuration.rateLimitCount == 3)
        #expect(configuration.statusBatchLimit == 10_000)
        #expect(configuration.statusBatchInterval == .milliseconds(100))
        #expect(configuration.assignmentBatching == .swarmKit)
        #expect(configuration.orphanAfter == .seconds(86_400))
        #expect(throws: Never.self) { try configuration.resolved() }
    }

    @Test(
        arguments: [
            { (c: inout DispatcherConfiguration) in c.heartbeatPeriod = .zero },
            { (c: inout DispatcherConfiguration) in c.heartbeatPeriod = .seconds(-1) },
            { (c: inout DispatcherConfiguration) in c.heartbeatJitter = .seconds(5) },
            { (c: inout DispatcherConfiguration) in c.heartbeatJitter = .milliseconds(-1) },
            { (c: inout DispatcherConfiguration) in c.graceMultiplier = 0.5 },
            { (c: inout DispatcherConfiguration) in c.graceMultiplier = .nan },
            { (c: inout DispatcherConfiguration) in c.graceMultiplier = .infinity },
            { (c: inout DispatcherConfiguration) in c.unknownGraceMultiplier = .nan },
            { (c: inout DispatcherConfiguration) in c.heartbeatPeriod = .seconds(3600) },
            { (c: inout DispatcherConfiguration) in c.rateLimitPeriod = .seconds(-1) },
            { (c: inout DispatcherConfiguration) in c.rateLimitCount = 0 },
            { (c: inout DispatcherConfiguration) in c.rateLimitCount = Int(Int32.max) },
            { (c: inout DispatcherConfiguration) in c.statusBatchLimit = 0 },
            { (c: inout DispatcherConfiguration) in c.statusBatchInterval = .zero },
            { (c: inout DispatcherConfiguration) in c.orphanAfter = .zero },
            { (c: inout DispatcherConfiguration) in c.maximumNodes = 0 },
            { (c: inout DispatcherConfiguration) in c.expiryResolution = .nanoseconds(10) },
        ] as [@Sendable (inout DispatcherConfiguration) -> Void])
    func invalidValuesAreRefused(_ change: @Sendable (inout DispatcherConfiguration) -> Void) throws {
        var configuration = DispatcherConfiguration()
        change(&configuration)
        let error = dispatcherError { () throws(DispatcherError) in _ = try configuration.resolved() }
        guard case .invalidConfiguration(let reason)? = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(!reason.isEmpty)
        #expect(throws: DispatcherError.self) { _ = try VirtualDispatcher(configuration: configuration) }
    }

    @Test func missedBeatsAreConfigurable() throws {
        var configuration = DispatcherConfiguration()
        configuration.heartbeatJitter = .zero
        configuration.graceMultiplier = 6.5
        let dispatcher = try startedDispatcher(configuration, nodes: ["n"])
        let session = try dispatcher.registerNow(nodeID("n")).sessionID
        _ = try dispatcher.core.heartbeat(node: nodeID("n"), session: session)
        dispatcher.advance(by: .milliseconds(32_400))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .ready)
        dispatcher.advance(by: .milliseconds(200))
        #expect(dispatcher.store.node(nodeID("n"))?.status.state == .down)
    }

    @Test func sessionIDTextRoundTrips() throws {
        let dispatcher = try startedDispatcher(nodes: ["n"])
        let session = try dispatcher.registerNow(nodeID("n")).sessionID
        let text = session.description
        #expect(text.utf8.count == 32)
        #expect(try SessionID(text) == session)
        for bad in ["", "xyz", String(repeating: "g", count: 32), String(repeating: "0", count: 32), text + "0"] {
            #expect(throws: DispatcherError.sessionInvalid) { _ = try SessionID(bad) }
        }
        #expect(throws: DispatcherError.invalidArgument("a node id must not be empty")) { _ = try NodeID("") }
    }
}
