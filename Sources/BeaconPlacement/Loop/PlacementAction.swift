public import BeaconCore

/// What the driver of a ``PlacementAttempt`` does next.
///
/// Plain data on purpose: not nested in the generic attempt and without an error payload (the
/// outcome is ``PlacementAttempt/result``), so it is copied as bits — an enum carrying `any Error`
/// is copied and destroyed through runtime calls, which cost more than the rest of a placement.
public enum PlacementAction: Sendable {
    /// Fetch the runner list, then call ``PlacementAttempt/runnersFetched(_:now:isCancelled:)`` or
    /// ``PlacementAttempt/fetchFailed(_:now:isCancelled:)``.
    case fetchRunners
    /// Try the runner at this index of the last fetched list, then call
    /// ``PlacementAttempt/runnerAnswered(_:now:isCancelled:)``.
    case tryRunner(Int)
    /// Wait until this instant (or until the request is cancelled), then call ``PlacementAttempt/woke(now:isCancelled:)``.
    case wait(until: BeaconInstant)
    /// The placement is over; its outcome is ``PlacementAttempt/result``.
    case finish
}
