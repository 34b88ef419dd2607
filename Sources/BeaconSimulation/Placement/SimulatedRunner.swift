package import BeaconCore
package import BeaconPlacement
import Synchronization

/// A runner with a fixed number of slots that refuses calls when they are all taken, like Fn's
/// runners (they NACK with 503 when full). The placement simulation takes and frees slots itself
/// in virtual time; ``tryExec(_:deadline:)`` takes a slot and frees it at once, a call that takes
/// no time, which is what the placer's overhead is measured against.
package final class SimulatedRunner: Runner {
    package let address: String
    package let slots: Int
    private let busy = Atomic<Int>(0)

    package init(address: String, slots: Int) {
        self.address = address
        self.slots = slots
    }

    /// Slots in use.
    package var load: Int { busy.load(ordering: .relaxed) }

    /// Takes a slot if one is free.
    package func admit() -> Bool {
        var current = busy.load(ordering: .relaxed)
        while current < slots {
            let (exchanged, original) = busy.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Frees a slot taken by ``admit()``.
    package func finish() {
        busy.wrappingSubtract(1, ordering: .relaxed)
    }

    package nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws
        -> Bool
    {
        guard admit() else { return false }
        finish()
        return true
    }

    package func status() async throws -> RunnerStatus {
        RunnerStatus(activeRequestCount: Int32(clamping: load))
    }

    package func close() async throws {}
}
