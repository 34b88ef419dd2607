public import CoreMetrics

/// The placers' metrics, under Fn's names and with Fn's meanings, so dashboards built for Fn's
/// load balancer read Beacon's unchanged. Created once per placer: recording allocates nothing.
/// A class, so a placement holds one reference rather than copying twelve.
public final class PlacerMetrics: Sendable {
    /// Runners tried per placement, recorded once when it ends (`lb_placer_attempt_count`).
    @usableFromInline let attempts: Recorder
    /// Placement time (`lb_placer_latency`): up to the last attempt's start when placed (the
    /// successful run itself excluded, NACK round trips included), up to the end when not.
    @usableFromInline let latency: Timer
    /// Placements that ended unplaced after the placer's timeout (`lb_placer_timeout_count`).
    @usableFromInline let placerTimeouts: Counter
    /// Placements whose request was cancelled (`lb_placer_client_cancelled_count`).
    @usableFromInline let clientCancelled: Counter
    /// Placements whose request deadline passed (`lb_placer_client_timeout_count`).
    @usableFromInline let clientTimeouts: Counter
    /// NACKs for lack of capacity (`lb_placer_retry_busy_count`).
    @usableFromInline let retryBusy: Counter
    /// NACKs for any other reason (`lb_placer_retry_error_count`).
    @usableFromInline let retryError: Counter
    /// Calls that ran and succeeded (`lb_placer_placed_ok_count`).
    @usableFromInline let placedOK: Counter
    /// Calls that ran and failed (`lb_placer_placed_error_count`).
    @usableFromInline let placedError: Counter
    /// Calls that ran and were cut off by the client's cancel or deadline (`lb_placer_placed_abort_count`).
    @usableFromInline let placedAbort: Counter
    /// Passes over an empty runner list (`lb_placer_rp_empty_count`).
    @usableFromInline let emptyLists: Counter
    /// Placements that gave up with the runner pool's error (`lb_placer_rp_error_count`).
    @usableFromInline let poolErrors: Counter

    /// The metric names, in declaration order.
    public static let names = [
        "lb_placer_attempt_count", "lb_placer_latency", "lb_placer_timeout_count", "lb_placer_client_cancelled_count",
        "lb_placer_client_timeout_count", "lb_placer_retry_busy_count", "lb_placer_retry_error_count",
        "lb_placer_placed_ok_count", "lb_placer_placed_error_count", "lb_placer_placed_abort_count",
        "lb_placer_rp_empty_count", "lb_placer_rp_error_count",
    ]

    /// Creates the metrics in `factory` (the bootstrapped system's by default), with `dimensions`
    /// on every one of them.
    public init(factory: any MetricsFactory = MetricsSystem.factory, dimensions: [(String, String)] = []) {
        let names = Self.names
        attempts = Recorder(label: names[0], dimensions: dimensions, aggregate: true, factory: factory)
        latency = Timer(label: names[1], dimensions: dimensions, preferredDisplayUnit: .milliseconds, factory: factory)
        placerTimeouts = Counter(label: names[2], dimensions: dimensions, factory: factory)
        clientCancelled = Counter(label: names[3], dimensions: dimensions, factory: factory)
        clientTimeouts = Counter(label: names[4], dimensions: dimensions, factory: factory)
        retryBusy = Counter(label: names[5], dimensions: dimensions, factory: factory)
        retryError = Counter(label: names[6], dimensions: dimensions, factory: factory)
        placedOK = Counter(label: names[7], dimensions: dimensions, factory: factory)
        placedError = Counter(label: names[8], dimensions: dimensions, factory: factory)
        placedAbort = Counter(label: names[9], dimensions: dimensions, factory: factory)
        emptyLists = Counter(label: names[10], dimensions: dimensions, factory: factory)
        poolErrors = Counter(label: names[11], dimensions: dimensions, factory: factory)
    }
}
