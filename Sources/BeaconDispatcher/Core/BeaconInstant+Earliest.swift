import BeaconCore

extension BeaconInstant {
    /// The earlier of two deadlines either of which may be absent: how the core and its timers
    /// combine "when next" answers without collecting them in an array.
    static func earliest(_ first: BeaconInstant?, _ second: BeaconInstant?) -> BeaconInstant? {
        guard let first else { return second }
        guard let second else { return first }
        return min(first, second)
    }
}
