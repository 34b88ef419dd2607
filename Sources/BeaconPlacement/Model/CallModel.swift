/// How a call is invoked, which decides how long the placer may hold it (Fn's `Call.Type`).
public enum CallType: String, Sendable, Hashable, CaseIterable {
    /// The client waits for the result.
    case sync
    /// Queued and run later; the client does not wait.
    case async
    /// The client gets an answer as soon as a runner accepts; placement is held for at most
    /// ``PlacerConfig/detachedPlacerTimeout``.
    case detached
}

/// The part of a call's model the placers read (Fn's `models.Call`): what runs and how.
public struct CallModel: Sendable, Hashable {
    /// The call's own id, unique per invocation.
    public var id: String
    /// The function's id: consistent-hash placers place by it, so a function's calls share warm
    /// containers on the same runners.
    public var functionID: String
    /// How the call is invoked.
    public var type: CallType

    /// Creates a call model.
    public init(id: String, functionID: String, type: CallType = .sync) {
        self.id = id
        self.functionID = functionID
        self.type = type
    }
}

/// A call to place on a runner (Fn's `RunnerCall`).
public protocol RunnerCall: Sendable {
    /// The hash id of the call's slot: calls with the same slot hash can reuse each other's warm
    /// containers on a runner.
    var slotHashID: String { get }
    /// Opaque extensions passed through to the runner.
    var extensions: [String: String] { get }
    /// What runs and how.
    var model: CallModel { get }
}
