package import BeaconPlacement

/// A pool whose runner list never changes: the same array on every fetch.
package struct StaticRunnerPool: RunnerPool {
    package let list: [any Runner]

    package init(list: [any Runner]) {
        self.list = list
    }

    package nonisolated(nonsending) func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner] { list }
    package func shutdown() async throws {}
}
