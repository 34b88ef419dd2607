#if GRPC
package import BeaconDispatcher
import BeaconCore
import Metrics

/// How long the dispatcher's calls take on the server, one histogram per method of
/// dispatcher.proto. A unary call is timed from its handler's start to its answer; a streaming
/// call, which lasts as long as its session, by what a node waits for: `Session` until its first
/// message (the registration, which waits for a store commit), `Assignments` until the COMPLETE
/// set is written, and `HeartbeatStream` per beat, from its arrival to its answer being written.
/// Calls that fail are not timed.
package struct RPCMetrics: Sendable {
    let session = Timer(label: Self.duration, dimensions: [("method", "Session")])
    let heartbeat = Timer(label: Self.duration, dimensions: [("method", "Heartbeat")])
    let heartbeatStream = Timer(label: Self.duration, dimensions: [("method", "HeartbeatStream")])
    let assignments = Timer(label: Self.duration, dimensions: [("method", "Assignments")])
    let updateTaskStatus = Timer(label: Self.duration, dimensions: [("method", "UpdateTaskStatus")])

    private static let duration = "beacon_rpc_duration_seconds"

    /// What the instruments mean, for an exporter's help text and buckets.
    package static let descriptions: [MetricDescription] = [
        MetricDescription(
            duration, .durationHistogram(buckets: DispatcherMetrics.latencyBuckets),
            "Server time of a successful dispatcher call by method: unary calls until answered, Session until its first message, Assignments until the complete set is written, HeartbeatStream per beat."
        )
    ]
}

extension Timer {
    /// Records the time since `start`; nothing when the call was not timed (`start` is nil
    /// when metrics are off, so an untimed call reads no clock at all).
    func record(since start: ContinuousClock.Instant?) {
        guard let start else { return }
        recordNanoseconds((ContinuousClock.now - start).nanosecondsRoundedUp)
    }
}
#endif
