public import BeaconCore

/// Places calls on a runner pool (Fn's `Placer`).
public protocol RunnerPlacer: Sendable {
    /// The placer's configuration.
    var config: PlacerConfig { get }
    /// The clock a call's deadline is an instant of and every wait sleeps on: compute deadlines
    /// from its `now`.
    var clock: any BeaconClock { get }

    /// Places `call` on one of `pool`'s runners and returns when it has run.
    ///
    /// - Parameters:
    ///   - call: the call to place.
    ///   - pool: where the runners that may take it come from.
    ///   - deadline: the client's deadline, on ``clock``; cancelling the calling task cancels the
    ///     request the same way.
    /// - Throws: the call's own error if a runner ran it and it failed; otherwise, when no runner
    ///   took it before a deadline, the runner pool's last error or
    ///   ``CallPlacementError/serverBusy``.
    nonisolated(nonsending) func placeCall<Call: RunnerCall, Pool: RunnerPool>(
        _ call: Call,
        on pool: Pool,
        deadline: BeaconInstant?
    ) async throws
}

extension RunnerPlacer {
    /// Places `call` with no client deadline (the task's cancellation still applies).
    public nonisolated(nonsending) func placeCall<Call: RunnerCall, Pool: RunnerPool>(_ call: Call, on pool: Pool)
        async throws
    {
        try await placeCall(call, on: pool, deadline: nil)
    }
}
