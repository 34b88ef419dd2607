public import BeaconCore

/// A placer for tests of detached calls, as in Fn: it places nothing, only waits `sleep` on its
/// clock and fails if the placer's timeout for the call passes first.
public struct FakeDetachedPlacer: RunnerPlacer {
    public let config: PlacerConfig
    public let clock: any BeaconClock
    /// How long each placement pretends to take.
    public let sleep: Duration

    /// Creates the placer; a test passes a `ManualClock` and advances it past the timeouts.
    public init(config: PlacerConfig = .default, sleep: Duration, clock: some BeaconClock = MonotonicClock()) {
        self.config = config
        self.sleep = sleep
        self.clock = clock
    }

    /// Waits `sleep`. Returns normally when it ends within the call's placer timeout or when the
    /// request's deadline passes first (Fn returns no error then either).
    ///
    /// - Throws: ``CallPlacementError/placerTimedOut`` when the placer timeout passes first;
    ///   `CancellationError` if the task is cancelled.
    public nonisolated(nonsending) func placeCall<Call: RunnerCall, Pool: RunnerPool>(
        _ call: Call,
        on pool: Pool,
        deadline: BeaconInstant?
    ) async throws {
        let start = clock.now
        let placerDeadline = start.advanced(by: config.timeout(for: call.model.type))
        let done = start.advanced(by: sleep)
        let requestDeadline = deadline ?? done
        try await clock.sleep(until: min(done, placerDeadline, requestDeadline), tolerance: nil)
        if requestDeadline < done && requestDeadline <= placerDeadline { return }
        if placerDeadline < done { throw CallPlacementError.placerTimedOut }
    }
}
