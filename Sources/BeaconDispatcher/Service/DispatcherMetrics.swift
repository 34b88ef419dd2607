import BeaconCore
import Metrics

/// The dispatcher's swift-metrics instruments. The counts come from the core's counters and the
/// heartbeat path's striped counter once every `metricsInterval`, so no heartbeat pays for a
/// metric; only a store commit, which already costs a batch, records as it happens.
package struct DispatcherMetrics: Sendable {
    let ready = Gauge(label: Self.nodes, dimensions: [("state", "ready")])
    let unknown = Gauge(label: Self.nodes, dimensions: [("state", "unknown")])
    let down = Gauge(label: Self.nodes, dimensions: [("state", "down")])
    let heartbeats = Counter(label: Self.heartbeatsTotal)
    let expiries = Counter(label: Self.expiriesTotal)
    let registrations = Counter(label: Self.registrationsTotal)
    let assignmentBytes = Counter(label: Self.assignmentBytesTotal)
    let oversizedAssignments = Counter(label: Self.oversizedAssignmentsTotal)
    let assignmentStreamsBehind = Counter(label: Self.assignmentStreamsBehindTotal)
    private let writes = Counter(label: Self.storeWritesTotal)
    private let writeFailures = Counter(label: Self.storeWriteFailuresTotal)
    private let writeDuration = Timer(label: Self.storeWriteDuration)
    private let batchSize = Recorder(label: Self.storeWriteBatchSize, aggregate: true)

    /// One commit of a batch of `count` writes to the store, successful or not.
    func recordCommit(of count: Int, taking duration: Duration, failed: Bool) {
        writes.increment(by: count)
        batchSize.record(count)
        writeDuration.recordNanoseconds(duration.nanosecondsRoundedUp)
        if failed { writeFailures.increment() }
    }

    private static let nodes = "beacon_dispatcher_nodes"
    private static let heartbeatsTotal = "beacon_dispatcher_heartbeats_total"
    private static let expiriesTotal = "beacon_dispatcher_expiries_total"
    private static let registrationsTotal = "beacon_dispatcher_registrations_total"
    private static let assignmentBytesTotal = "beacon_dispatcher_assignment_bytes_total"
    private static let oversizedAssignmentsTotal = "beacon_dispatcher_oversized_assignments_total"
    private static let assignmentStreamsBehindTotal = "beacon_dispatcher_assignment_streams_behind_total"
    private static let storeWritesTotal = "beacon_dispatcher_store_writes_total"
    private static let storeWriteFailuresTotal = "beacon_dispatcher_store_write_failures_total"
    private static let storeWriteDuration = "beacon_dispatcher_store_write_duration_seconds"
    private static let storeWriteBatchSize = "beacon_dispatcher_store_write_batch_size"

    /// What each instrument means, for an exporter's help text and buckets.
    package static let descriptions: [MetricDescription] = [
        MetricDescription(
            nodes, .gauge,
            "Nodes this dispatcher holds, by liveness state (ready, unknown, down); updated every metrics interval."),
        MetricDescription(heartbeatsTotal, .counter, "Heartbeats accepted; updated every metrics interval."),
        MetricDescription(expiriesTotal, .counter, "Nodes marked DOWN because their heartbeat deadline passed."),
        MetricDescription(registrationsTotal, .counter, "Sessions issued (a resumed session is not counted)."),
        MetricDescription(
            assignmentBytesTotal, .counter, "Encoded bytes of the assignment messages queued for nodes to read."),
        MetricDescription(
            oversizedAssignmentsTotal, .counter,
            "Task and secret or config writes left out of a node's assignments: too large for one message."),
        MetricDescription(
            assignmentStreamsBehindTotal, .counter,
            "Assignment streams ended because their node read too slowly (more than assignmentBacklogLimit waited); each node reopens its stream for a COMPLETE set."
        ),
        MetricDescription(
            storeWritesTotal, .counter, "Status writes committed to the store (or attempted, when a commit fails)."),
        MetricDescription(storeWriteFailuresTotal, .counter, "Store commits that failed."),
        MetricDescription(
            storeWriteDuration, .durationHistogram(buckets: latencyBuckets),
            "Time one store commit of a batch of status writes took, failed or not."),
        MetricDescription(
            storeWriteBatchSize,
            .valueHistogram(buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]),
            "Status writes in one store commit."),
    ]

    /// Bucket bounds for the latencies Beacon measures: a heartbeat is handled in microseconds, a
    /// registration waits for a batch commit (100 ms apart by default).
    package static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]
}
