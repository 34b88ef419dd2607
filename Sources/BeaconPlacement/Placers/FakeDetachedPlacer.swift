/// A placer for tests of detached calls, as in Fn: it places nothing, only waits `sleep` and
/// fails if the placer's timeout for the call passes first.
public struct FakeDetachedPlacer: RunnerPlacer {
    public let config: PlacerConfig
    /// How long each placement pretends to take.
    public let sleep: Duration

    /// Creates the placer.
    public init(config: PlacerConfig = .default, sleep: Duration) {
        self.config = config
        self.sleep = sleep
    }

    /// Waits `sleep`. Returns normally when it ends within the call's placer timeout or when the
    /// request's deadline passes first (Fn returns no error then either).
    ///
    /// - Throws: ``CallPlacementError/placerTimedOut`` when the placer timeout passes first;
    ///   `CancellationError` if the task is cancelled.
    public nonisolated(nonsending) func placeCall<Call: RunnerCall, Pool: RunnerPool>(
        _ call: Call,
        on pool: Pool,
        deadline: ContinuousClock.Instant?
    ) async throws {
        let start = ContinuousClock.now
        let placerDeadline = start.advanced(by: config.timeout(for: call.model.type))
        let done = start.advanced(by: sleep)
        let requestDeadline = deadline ?? done
        try await Task.sleep(until: min(done, placerDeadline, requestDeadline), clock: .continuous)
        if requestDeadline < done && requestDeadline <= placerDeadline { return }
        if placerDeadline < done { throw CallPlacementError.placerTimedOut }
    }
}
