/// The protocol's timing, with TiFlow's defaults.
///
/// The windows are asymmetric on purpose: a worker that stops hearing its master kills itself
/// after ``workerTimeout`` (15 s), while the master declares it offline only after
/// ``workerTimeout`` + ``workerTimeoutGrace`` (20 s). The 5 s between them is what keeps two live
/// copies of a worker from running after the master reschedules it.
public struct TimeoutConfiguration: Sendable, Hashable {
    /// How often a worker pings, and how often its watchdog looks at the last acknowledgement.
    public let heartbeatInterval: Duration
    /// Silence after which a worker commits suicide; the master's offline timeout builds on it.
    public let workerTimeout: Duration
    /// Added to ``workerTimeout`` for the master's offline timeout.
    public let workerTimeoutGrace: Duration
    /// How long a worker pings as finished before giving up on the master's acknowledgement.
    public let exitAcknowledgementTimeout: Duration
    /// How often a worker retries delivering a status message to its master.
    public let statusRetryInterval: Duration
    /// How long a worker keeps retrying one status message.
    public let statusDeliveryTimeout: Duration

    /// TiFlow's defaults: 3 s pings, 15 s suicide, 20 s offline, 15 s exit acknowledgement,
    /// status delivery retried every 100 ms for up to 15 s.
    public static let `default` = TimeoutConfiguration(
        unchecked: .seconds(3), workerTimeout: .seconds(15), workerTimeoutGrace: .seconds(5),
        exitAcknowledgementTimeout: .seconds(15), statusRetryInterval: .milliseconds(100),
        statusDeliveryTimeout: .seconds(15))

    /// Checks every value and raises ``workerTimeout`` to at least two heartbeat intervals plus
    /// 3 s (TiFlow's `Adjust`), so two lost pings never kill a worker.
    ///
    /// Every parameter defaults to TiFlow's value.
    ///
    /// - Throws: ``MasterWorkerError/invalidConfiguration(_:)`` for a duration that is not
    ///   positive, or an offline timeout above an hour.
    public init(
        heartbeatInterval: Duration = .seconds(3), workerTimeout: Duration = .seconds(15),
        workerTimeoutGrace: Duration = .seconds(5), exitAcknowledgementTimeout: Duration = .seconds(15),
        statusRetryInterval: Duration = .milliseconds(100), statusDeliveryTimeout: Duration = .seconds(15)
    ) throws(MasterWorkerError) {
        for (name, value) in [
            ("heartbeatInterval", heartbeatInterval), ("workerTimeout", workerTimeout),
            ("exitAcknowledgementTimeout", exitAcknowledgementTimeout),
            ("statusRetryInterval", statusRetryInterval), ("statusDeliveryTimeout", statusDeliveryTimeout),
        ] where value <= .zero {
            throw .invalidConfiguration("\(name) must be positive, got \(value)")
        }
        // Without a grace the master could declare a worker offline (and reschedule it) at the
        // very instant the worker decides to stop: two copies could run.
        guard workerTimeoutGrace > .zero else {
            throw .invalidConfiguration(
                "workerTimeoutGrace must be positive (it keeps a worker's suicide before its master's offline timeout), got \(workerTimeoutGrace)"
            )
        }
        let offline = max(workerTimeout, heartbeatInterval * 2 + .seconds(3)) + workerTimeoutGrace
        guard offline <= .seconds(3600) else {
            throw .invalidConfiguration(
                "the offline timeout (workerTimeout + grace) must be at most an hour, got \(offline)")
        }
        self.heartbeatInterval = heartbeatInterval
        self.workerTimeout = max(workerTimeout, heartbeatInterval * 2 + .seconds(3))
        self.workerTimeoutGrace = workerTimeoutGrace
        self.exitAcknowledgementTimeout = exitAcknowledgementTimeout
        self.statusRetryInterval = statusRetryInterval
        self.statusDeliveryTimeout = statusDeliveryTimeout
    }

    private init(
        unchecked heartbeatInterval: Duration, workerTimeout: Duration, workerTimeoutGrace: Duration,
        exitAcknowledgementTimeout: Duration, statusRetryInterval: Duration, statusDeliveryTimeout: Duration
    ) {
        self.heartbeatInterval = heartbeatInterval
        self.workerTimeout = workerTimeout
        self.workerTimeoutGrace = workerTimeoutGrace
        self.exitAcknowledgementTimeout = exitAcknowledgementTimeout
        self.statusRetryInterval = statusRetryInterval
        self.statusDeliveryTimeout = statusDeliveryTimeout
    }

    /// How long after a worker's last valid ping the master declares it offline, and how long a
    /// master recovering from a fail-over waits for its workers' first pings.
    public var offlineTimeout: Duration { workerTimeout + workerTimeoutGrace }

    /// Silence after which a worker, still healthy, reloads where its master runs.
    public var reloadMasterInfoAfter: Duration { heartbeatInterval * 2 }
}
