public import BeaconCore

/// A runner that executes calls and may refuse them (Fn's `Runner`).
///
/// ``tryExec(_:deadline:)`` has three outcomes, and the difference between the last two is the
/// whole contract:
/// - `true`: the runner ran the call and it succeeded;
/// - `false`, or a thrown ``RunnerRefusal``: a NACK — the call did not start here and is safe to
///   try on this or another runner;
/// - any other thrown error: the call was committed (it ran, or may have run) and failed; the
///   placer stops and returns that error, because trying again could run it twice.
///
/// Anything unexpected is therefore treated as committed, like Fn's gRPC runner, which assumes
/// a call it has sent is running unless the runner says otherwise.
public protocol Runner: AnyObject, Sendable {
    /// The runner's address; load-aware placers also use it as the runner's identity.
    var address: String { get }
    /// Tries to run `call`, returning when it has finished or was refused. The runner should give
    /// up at `deadline` (the client's, on the placer's ``RunnerPlacer/clock``), throwing an error
    /// that counts as committed.
    nonisolated(nonsending) func tryExec<Call: RunnerCall>(_ call: Call, deadline: BeaconInstant?) async throws -> Bool
    /// The runner's status.
    func status() async throws -> RunnerStatus
    /// Closes the runner; later calls are refused.
    func close() async throws
}

/// A runner's explicit refusal: the call did not start and may be tried elsewhere.
public enum RunnerRefusal: Error, Sendable, CustomStringConvertible {
    /// The runner has no free capacity (Fn's HTTP 503 "server too busy" NACK).
    case busy
    /// The runner is shutting down.
    case closed
    /// The call could not be handed over (for example the connection was unavailable), so it is
    /// known not to have started.
    case notDelivered(any Error)

    public var description: String {
        switch self {
        case .busy: "the runner is busy"
        case .closed: "the runner is closed"
        case .notDelivered(let error): "the call was not delivered: \(error)"
        }
    }
}

/// The runners a call may go to (Fn's `RunnerPool`).
public protocol RunnerPool: Sendable {
    /// The runners `call` may be placed on, in the pool's order. Called at the start of every pass,
    /// so return a cached array when the set has not changed: load-aware placers recognise the
    /// same array in O(1).
    ///
    /// A thrown error counts as an empty list with that error: placement keeps retrying until a
    /// deadline unless it is a ``FunctionError`` with status 502, and returns the last such error
    /// when it gives up.
    nonisolated(nonsending) func runners<Call: RunnerCall>(for call: Call) async throws -> [any Runner]
    /// Shuts the pool down.
    func shutdown() async throws
}
