import BeaconCore

/// Any `BeaconClock` behind one concrete type, so ``MasterRuntime`` can take the caller's clock
/// without becoming generic (its users name it `MasterRuntime`, whatever the clock) while its
/// ``WorkerManager`` and wheel, which need a concrete clock type, run on this one.
///
/// A reading costs one dynamic call on top of the clock's own, a few nanoseconds beside the
/// microseconds a ping costs the runtime.
struct ErasedClock: BeaconClock {
    let base: any BeaconClock

    init(_ base: some BeaconClock) {
        self.base = base
    }

    var now: BeaconInstant { base.now }

    func sleep(until deadline: BeaconInstant, tolerance: Duration? = nil) async throws {
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}
