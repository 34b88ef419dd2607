import BeaconCore
import BeaconPlacement
import Testing

// The example of docs/call-placement.md, verbatim but for the test wrapper.

final class LocalRunner: Runner {
    let address: String
    init(address: String) { self.address = address }

    func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws -> Bool {
        // false when full (a NACK: the placer tries elsewhere); throw RunnerRefusal when the call
        // could not be handed over; throw anything else only once the call may have run.
        true
    }
    func status() async throws -> RunnerStatus { RunnerStatus() }
    func close() async throws {}
}

struct LocalPool: RunnerPool {
    let list: [any Runner]
    func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner] { list }
    func shutdown() async throws {}
}

@Suite struct DocumentationExampleTests {
    @Test func theCallPlacementExampleRuns() async throws {
        let placer = try CallPlacer.boundedLoad()
        let pool = LocalPool(list: (0..<4).map { LocalRunner(address: "10.0.0.\($0):9190") })
        try await placer.placeCall(
            PlainCall(CallModel(id: "call-1", functionID: "resize-image")),
            on: pool,
            deadline: placer.clock.now.advanced(by: .seconds(30)))
        #expect(placer.order.balancer.loads == [0, 0, 0, 0])
    }
}
