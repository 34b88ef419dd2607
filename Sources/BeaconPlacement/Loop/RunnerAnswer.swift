/// How a runner answered one attempt.
public enum RunnerAnswer: Sendable {
    /// The runner took the call and has finished it: nil for success, else the call's error.
    case placed((any Error)?)
    /// The runner refused the call (a NACK); it may be tried elsewhere.
    case refused(RunnerRefusal)
}

/// How a placement ended.
public enum PlacementResult: Sendable {
    /// A runner took the call; nil when it succeeded, else the call's own error.
    case placed((any Error)?)
    /// No runner took it: the runner pool's last error, or ``CallPlacementError/serverBusy``.
    case notPlaced(any Error)
}
