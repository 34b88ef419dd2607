import BeaconDispatcher
import BeaconPrimitives

/// The in-memory store, except that commits wait until the test opens the gate: a store whose
/// consensus is slow.
final class GatedStore: DispatcherStoreWrapper {
    let base = InMemoryDispatcherStore()
    /// Set when the first commit is held at the gate.
    let commitHeld = Latch<Void>()
    private let gate = PosixMutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiting = gate.withLock { gate in
            gate.open = true
            defer { gate.waiting = [] }
            return gate.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
        await withCheckedContinuation { continuation in
            let proceed = gate.withLock { gate in
                if gate.open { return true }
                gate.waiting.append(continuation)
                return false
            }
            if proceed {
                continuation.resume()
            } else {
                commitHeld.settle(())
            }
        }
        base.apply(writes)
    }
}
