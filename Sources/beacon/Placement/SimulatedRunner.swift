import BeaconCore
import BeaconPlacement
import Synchronization

/// A runner with a fixed number of slots that refuses calls when they are all taken, like Fn's
/// runners (they NACK with 503 when full). The placement simulation takes and frees slots itself
/// in virtual time; ``tryExec(_:deadline:)`` takes a slot and frees it at once, a call that takes
/// no time, which is what the placer's overhead is measured against.
final class SimulatedRunner: Runner {
    let address: String
    let slots: Int
    private let busy = Atomic<Int>(0)

    init(address: String, slots: Int) {
        self.address = address
        self.slots = slots
    }

    /// Slots in use.
    var load: Int { busy.load(ordering: .relaxed) }

    /// Takes a slot if one is free.
    func admit() -> Bool {
        var current = busy.load(ordering: .relaxed)
        while current < slots {
            let (exchanged, original) = busy.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Frees a slot taken by ``admit()``.
    func finish() {
        busy.wrappingSubtract(1, ordering: .relaxed)
    }

    nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws -> Bool {
        guard admit() else { return false }
        finish()
        return true
    }

    func status() async throws -> RunnerStatus {
        RunnerStatus(activeRequestCount: Int32(clamping: load))
    }

    func close() async throws {}
}

/// A pool whose runner list never changes: the same array on every fetch.
struct StaticRunnerPool: RunnerPool {
    let list: [any Runner]

    nonisolated(nonsending) func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner] { list }
    func shutdown() async throws {}
}
