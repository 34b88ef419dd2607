/// A call that is only its model: the slot hash is the function id and there are no extensions.
/// Enough for a load balancer whose runners find everything else by the call's id.
public struct PlainCall: RunnerCall, Hashable {
    public let slotHashID: String
    public let extensions: [String: String]
    public let model: CallModel

    /// A call of `model`, its slot hash the function id unless given.
    public init(_ model: CallModel, slotHashID: String? = nil, extensions: [String: String] = [:]) {
        self.model = model
        self.slotHashID = slotHashID ?? model.functionID
        self.extensions = extensions
    }
}
