public import BeaconCore
import BeaconPrimitives
public import Logging
import Synchronization

/// Consul's client-side server manager (`agent/router/manager.go`): the list of servers this
/// client may talk to, in the order it tries them.
///
/// ``find()`` returns the front server; ``notifyFailed(_:)`` moves a failed front server to the
/// end; ``rebalance()`` shuffles the list and pings from the front until a server answers, so
/// load spreads and a dead server never leads. Reads are lock-free and allocation-free: they load
/// an immutable, atomically published list. Writers serialize and publish a new list.
///
/// ```swift
/// let manager = ServerManager(pinger: myPinger, cluster: myCluster)   // a test adds clock: ManualClock()
/// try manager.add(ManagedServer(name: "s1", address: "10.0.0.1:8300"))
/// if let server = manager.find() { … on failure: manager.notifyFailed(server) }
/// // and keep it rebalancing (every 2–3 minutes, longer for large clusters):
/// Task { await manager.run() }   // or LifecycleService(manager) in a ServiceGroup
/// ```
public final class ServerManager: LongRunningService {
    private struct Writer {
        var random: any RandomNumberGenerator & Sendable
        var rebalanceDeadline: BeaconInstant
        /// Counts the orders set by a failure or a preference. A rebalance that sees it move
        /// while it pings publishes nothing: its order predates what the client just learnt.
        var orderChanges: UInt64 = 0
        /// Bumped by every ``add(_:)`` and ``prefer(_:)``, which mark the manager online: a
        /// rebalance that found no healthy server among those it pinged leaves the manager online
        /// if one came meanwhile.
        var onlineMarks: UInt64 = 0
    }

    private let list: AtomicSnapshot<ServerList>
    private let offline = Atomic<Bool>(true)
    /// Consul's `notifyFailedBarrier`: a notification arriving while another is applied is dropped.
    private let notifying = Atomic<Bool>(false)
    private let writer: PosixMutex<Writer>
    /// Only the rebalance timer reads it; ``find()`` never does.
    private let clock: any BeaconClock
    /// Wakes ``run()`` when the rebalance deadline moves, so it never polls.
    private let timerMoved = Wakeup()
    /// Whether a ``run()`` is under way: the wake-up above has room for one sleeper.
    private let running = Atomic<Bool>(false)
    /// A server never pings itself: a server-side client counts its own server as healthy.
    public let localServerName: String?
    private let pinger: any Pinger
    private let cluster: any ClusterInfo
    private let logger: Logger

    /// Creates an empty manager, offline until a server is added; the first rebalance is due
    /// ``RebalanceDelay/minimum`` after now.
    ///
    /// - Parameters:
    ///   - localServerName: the name of the server this process is, when it is one: it counts as
    ///     healthy without a ping, so a single-server cluster stays online.
    ///   - pinger: the health check a rebalance runs from the front of the shuffled list.
    ///   - cluster: the cluster's size, which stretches the rebalance interval.
    ///   - clock: what the rebalance timer runs on; a test passes a `ManualClock` and advances it.
    ///   - random: the shuffles' and the timer's jitter's source; a seeded one repeats them.
    ///   - logger: where rebalances and failed pings are logged.
    public init(
        localServerName: String? = nil, pinger: any Pinger, cluster: any ClusterInfo,
        clock: some BeaconClock = MonotonicClock(),
        random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        logger: Logger = Logger(label: "beacon.client")
    ) {
        self.localServerName = localServerName
        self.pinger = pinger
        self.cluster = cluster
        self.clock = clock
        self.logger = logger
        list = AtomicSnapshot(ServerList([]))
        writer = PosixMutex(Writer(random: random, rebalanceDeadline: clock.now.advanced(by: RebalanceDelay.minimum)))
    }

    // MARK: Reads (lock-free)

    /// The server to use: the front of the list, nil when there is none.
    @inline(__always)
    public func find() -> ManagedServer? {
        list.withPinned { $0.first }
    }

    /// Servers in the list, healthy or not.
    public var count: Int { list.withPinned { $0.count } }

    /// The list, front first.
    public var servers: [ManagedServer] { list.load().servers }

    /// True until a server is added, and after a rebalance that found no healthy server (unless
    /// one was added or preferred while it pinged).
    public var isOffline: Bool { offline.load(ordering: .acquiring) }

    // MARK: Writes

    /// Adds `server` at the end, or updates the server of that name in place. Marks the manager
    /// online (Consul: "we've just seen a new server").
    public func add(_ server: ManagedServer) {
        writer.withLock { writer in
            var servers = list.load().servers
            if let index = servers.firstIndex(where: { $0.name == server.name }) {
                servers[index] = server
            } else {
                servers.append(server)
            }
            list.publish(ServerList(servers))
            writer.onlineMarks &+= 1
            offline.store(false, ordering: .releasing)
        }
    }

    /// Puts `server` at the front (adding it, or updating the server of that name): the server
    /// the client was told to use, such as the manager a sharded dispatcher named as a node's
    /// owner. Marks the manager online. Consul has no such call: its servers are
    /// interchangeable.
    public func prefer(_ server: ManagedServer) {
        writer.withLock { writer in
            var servers = list.load().servers
            servers.removeAll { $0.name == server.name }
            servers.insert(server, at: 0)
            list.publish(ServerList(servers))
            writer.orderChanges &+= 1
            writer.onlineMarks &+= 1
            offline.store(false, ordering: .releasing)
        }
    }

    /// Removes the server named `name`; nothing happens if there is none.
    public func remove(named name: String) {
        writer.withLock { _ in
            var servers = list.load().servers
            guard let index = servers.firstIndex(where: { $0.name == name }) else { return }
            servers.remove(at: index)
            list.publish(ServerList(servers))
        }
    }

    /// Reports that `server` failed: if it is the front server and another exists, it moves to
    /// the end. Failing any other server is a no-op (the client already moved on), and so is a
    /// notification that arrives while another is being applied. The front must be `server` as
    /// found (same name, address and weight): a server updated in place since (``add(_:)``
    /// with a new address) was not what failed.
    public func notifyFailed(_ server: ManagedServer) {
        let eligible = list.withPinned { $0.count > 1 && $0.first == server }
        guard eligible,
            notifying.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else {
            return
        }
        defer { notifying.store(false, ordering: .releasing) }
        writer.withLock { writer in
            let current = list.load()
            guard current.count > 1, current.first == server else { return }
            list.publish(current.cycled())
            writer.orderChanges &+= 1
        }
    }

    // MARK: Rebalancing

    /// Consul's rebalance: shuffle (weighted toward heavier servers when weights differ), then
    /// ping from the front, moving each server that fails to the end, at most once per server.
    /// No healthy server: offline (unless a server was added or preferred meanwhile, which it did
    /// not ping), and the list stays as it was. Otherwise online, and the new
    /// order is reconciled with servers added and removed while pinging; a failure reported or
    /// a server preferred meanwhile wins over the new order, which is dropped. A rebalance
    /// whose task is cancelled stops pinging and changes nothing: a ping cut short is no
    /// verdict on the server. Returns whether a new order was published.
    @discardableResult
    public func rebalance() async -> Bool {
        // The list and the counters read together: a change made between them would be in
        // neither the candidate nor the check, and the rebalance would publish over it.
        let (shuffled, started, marks) = writer.withLock { writer in
            var servers = list.load().servers
            Self.shuffle(&servers, using: &writer.random)
            return (servers, writer.orderChanges, writer.onlineMarks)
        }
        var candidate = shuffled
        var found = false
        for _ in 0..<candidate.count {
            if await isHealthy(candidate[0]) {
                found = true
                break
            }
            if Task.isCancelled { return false }
            logger.debug("pinging server failed", metadata: ["server": "\(candidate[0])"])
            candidate.cycleFront()
        }
        // Cancelled while a ping answered (or with the local server in front, which needs none).
        if Task.isCancelled { return false }
        guard found else {
            writer.withLock { writer in
                if writer.onlineMarks == marks { offline.store(true, ordering: .releasing) }
            }
            logger.debug("no healthy servers during rebalance, aborting")
            return false
        }
        offline.store(false, ordering: .releasing)
        return writer.withLock { writer in
            guard writer.orderChanges == started else {
                logger.debug("the order changed while rebalancing; keeping it")
                return false
            }
            guard let reconciled = candidate.reconciled(with: list.load().servers) else { return false }
            list.publish(ServerList(reconciled))
            logger.debug("rebalanced servers", metadata: ["front": "\(reconciled[0])"])
            return true
        }
    }

    private func isHealthy(_ server: ManagedServer) async -> Bool {
        if let localServerName, server.name == localServerName { return true }
        return await pinger.ping(server)
    }

    /// Fisher–Yates, as Consul; with unequal weights, a weighted random order instead
    /// (Efraimidis–Spirakis: each server draws `u^(1/w)`, highest first), so heavier servers tend
    /// to lead while every order stays possible.
    static func shuffle(_ servers: inout [ManagedServer], using random: inout some RandomNumberGenerator) {
        guard servers.count > 1 else { return }
        let weights = Set(servers.map(\.weight))
        if weights.count == 1 {
            for i in stride(from: servers.count - 1, to: 0, by: -1) {
                servers.swapAt(i, Int.random(in: 0...i, using: &random))
            }
            return
        }
        let keyed = servers.map { server -> (key: Double, server: ManagedServer) in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &random)
            return (NaturalLogarithm.of(u) / server.weight, server)
        }
        servers = keyed.sorted { $0.key > $1.key }.map { $0.server }
    }

    /// Restarts the rebalance timer at 120 s (Consul keeps this for tests).
    public func resetRebalanceTimer() {
        let deadline = clock.now.advanced(by: RebalanceDelay.minimum)
        writer.withLock { $0.rebalanceDeadline = deadline }
        timerMoved.signal()
    }

    /// Sets the next rebalance one ``RebalanceDelay`` from now, for the current number of servers
    /// and cluster nodes; returns that interval.
    @discardableResult
    public func refreshRebalanceTimer() -> Duration {
        let interval = scheduleNextRebalance()
        timerMoved.signal()
        return interval
    }

    @discardableResult
    private func scheduleNextRebalance() -> Duration {
        let servers = count
        let nodes = cluster.nodeCount
        let now = clock.now
        return writer.withLock { writer in
            let interval = RebalanceDelay.interval(
                servers: servers, nodes: nodes, jitter: RebalanceDelay.randomJitter(using: &writer.random))
            writer.rebalanceDeadline = now.advanced(by: interval)
            return interval
        }
    }

    /// Rebalances whenever the timer is due, until the task is cancelled: it sleeps on the
    /// manager's clock until the deadline, or until ``resetRebalanceTimer()`` or
    /// ``refreshRebalanceTimer()`` moves it. One `run()` at a time: a second one while the first
    /// runs logs an error and returns at once.
    /// (`LifecycleService` in BeaconLifecycle runs it under swift-service-lifecycle.)
    public func run() async {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else {
            logger.error("the server manager is already running; this run() returns at once")
            return
        }
        defer { running.store(false, ordering: .releasing) }
        await rebalanceWhenDue(on: clock)
        logger.debug("server manager shutting down")
    }

    /// ``run()``'s loop, on the clock's concrete type so its deadlines need no conversion.
    private func rebalanceWhenDue(on clock: some BeaconClock) async {
        while !Task.isCancelled {
            let deadline = writer.withLock { $0.rebalanceDeadline }
            if clock.now >= deadline {
                await rebalance()
                scheduleNextRebalance()
                continue
            }
            await timerMoved.wait(until: deadline, on: clock)
        }
    }
}
