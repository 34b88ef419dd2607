public import BeaconCore

/// What a runner reports about itself (Fn's `RunnerStatus`).
public struct RunnerStatus: Sendable, Hashable {
    /// Requests running on the runner now.
    public var activeRequestCount: Int32
    /// Requests the runner has received.
    public var requestsReceived: UInt64
    /// Requests the runner handled without a NACK.
    public var requestsHandled: UInt64
    /// Kernel crash dumps on the runner's disk.
    public var kdumpsOnDisk: UInt64
    /// Whether the status check itself failed; see ``errorCode`` and ``errorMessage``.
    public var statusFailed: Bool
    /// Whether the status came from the runner's cache.
    public var isCached: Bool
    /// The call id of the status check.
    public var statusID: String
    /// Free-form details.
    public var details: String
    /// Set when ``statusFailed``.
    public var errorCode: Int32
    /// Set when ``statusFailed``.
    public var errorMessage: String
    /// When the status call was created at the runner, on the runner's `BeaconClock`.
    public var createdAt: BeaconInstant?
    /// When the runner started the status call.
    public var startedAt: BeaconInstant?
    /// When the runner completed the status call.
    public var completedAt: BeaconInstant?
    /// Time in the runner's scheduler, in the function, pulling the image, preparing and creating
    /// the container, and the container's init.
    public var schedulerDuration: Duration
    public var executionDuration: Duration
    public var imagePullWaitDuration: Duration
    public var containerPrepareDuration: Duration
    public var containerCreateDuration: Duration
    public var initStartTime: Duration
    /// Whether the runner's network is off.
    public var isNetworkDisabled: Bool

    /// A status with every counter zero and no failure.
    public init(
        activeRequestCount: Int32 = 0,
        requestsReceived: UInt64 = 0,
        requestsHandled: UInt64 = 0,
        kdumpsOnDisk: UInt64 = 0,
        statusFailed: Bool = false,
        isCached: Bool = false,
        statusID: String = "",
        details: String = "",
        errorCode: Int32 = 0,
        errorMessage: String = "",
        createdAt: BeaconInstant? = nil,
        startedAt: BeaconInstant? = nil,
        completedAt: BeaconInstant? = nil,
        schedulerDuration: Duration = .zero,
        executionDuration: Duration = .zero,
        imagePullWaitDuration: Duration = .zero,
        containerPrepareDuration: Duration = .zero,
        containerCreateDuration: Duration = .zero,
        initStartTime: Duration = .zero,
        isNetworkDisabled: Bool = false
    ) {
        self.activeRequestCount = activeRequestCount
        self.requestsReceived = requestsReceived
        self.requestsHandled = requestsHandled
        self.kdumpsOnDisk = kdumpsOnDisk
        self.statusFailed = statusFailed
        self.isCached = isCached
        self.statusID = statusID
        self.details = details
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.schedulerDuration = schedulerDuration
        self.executionDuration = executionDuration
        self.imagePullWaitDuration = imagePullWaitDuration
        self.containerPrepareDuration = containerPrepareDuration
        self.containerCreateDuration = containerCreateDuration
        self.initStartTime = initStartTime
        self.isNetworkDisabled = isNetworkDisabled
    }
}
