/// An error with an HTTP status, raised by the user's function or its configuration rather than
/// by the platform (Fn's `FuncError`).
///
/// A runner pool that throws one with status 502 for a call (the function cannot run, for example
/// its image does not exist) makes placement give up at once instead of retrying until the placer
/// timeout — the error must conform itself; one wrapped inside another error does not count.
public protocol FunctionError: Error {
    /// The HTTP status the error maps to.
    var statusCode: Int { get }
}

/// Why the placer gave up on a call.
public enum CallPlacementError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No runner accepted the call before a deadline passed or the request was cancelled (Fn's
    /// `ErrCallTimeoutServerBusy`, HTTP 503).
    case serverBusy
    /// The placer's own timeout passed first (the fake detached placer's outcome).
    case placerTimedOut

    /// The HTTP status a server should answer with.
    public var statusCode: Int { 503 }

    public var description: String {
        switch self {
        case .serverBusy: "timed out: no runner accepted the call (server too busy)"
        case .placerTimedOut: "the placer's timeout passed before the call was placed"
        }
    }
}
