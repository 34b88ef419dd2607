import BeaconCore

/// The liveness the heartbeat wheel does not hold: nodes carried over from an earlier leader
/// (UNKNOWN until they register, DOWN at their doubled grace), registrations in flight (which hold
/// off a DOWN verdict), and DOWN nodes' orphan timers.
///
/// A value with no clock or lock: every input carries the time, and the timers that came due are
/// returned for ``DispatcherCore`` to act on (queue the DOWN and orphan writes, tell the observer).
struct LivenessTimers {
    /// A node carried over from an earlier leader that has not registered again. It holds no
    /// wheel record: its deadline waits in `unknownQueue`, so when it registers it takes one
    /// record at the normal grace instead of leaving an UNKNOWN record behind until the old
    /// deadline passes.
    struct UnknownNode {
        var deadline: BeaconInstant
        var limit = RegistrationRateLimit()
        /// Set once it has registered in this window; nil before (SwarmKit's zero `Registered`).
        var registeredAt: BeaconInstant?
    }

    /// Which deadline a node missed, for the message of its DOWN status.
    enum MissedDeadline {
        /// The heartbeat deadline of a registered node.
        case heartbeat
        /// The doubled grace of a node carried over from an earlier leader.
        case unknownGrace
    }

    private struct OrphanTimer {
        var deadline: BeaconInstant
        var node: NodeID
        var token: UInt64
    }

    /// Registrations of one node awaiting their commit, and whether a deadline of the node passed
    /// meanwhile.
    private struct RegistrationInFlight {
        var count = 0
        var deadlinePassed = false
        /// The node moved to another manager meanwhile, and its READY write was dropped: these
        /// registrations must not issue a session even if the node moves back before they end.
        var voided = false
        /// The node's orphan timer came due meanwhile: it is orphaned if none of them succeeds.
        var orphanDue = false
    }

    let orphanAfter: Duration
    private var unknownNodes: [NodeID: UnknownNode] = [:]
    /// UNKNOWN deadlines in order, read from `unknownQueueHead`.
    private var unknownQueue: [(deadline: BeaconInstant, node: NodeID)] = []
    private var unknownQueueHead = 0
    /// Nodes with a registration between begin and end, and whether a deadline of theirs passed
    /// meanwhile: such a node is not marked DOWN unless its registration fails.
    private var registering: [NodeID: RegistrationInFlight] = [:]
    /// DOWN nodes: the token of their live orphan timer, and whether the DOWN was taken over
    /// from the store rather than decided here.
    private var downNodes: [NodeID: (token: UInt64, inherited: Bool)] = [:]
    /// DOWN nodes whose orphan timer came due during registrations that then all failed.
    private var orphansAfterFailedRegistrations: [NodeID] = []
    private var orphanQueue: [OrphanTimer] = []
    private var orphanQueueHead = 0
    private var nextOrphanToken: UInt64 = 0
    /// Nodes whose orphan timer fired, for ``DispatcherCounters/orphaned``.
    private(set) var orphaned = 0

    init(orphanAfter: Duration) {
        self.orphanAfter = orphanAfter
    }

    var unknownCount: Int { unknownNodes.count }
    var downCount: Int { downNodes.count }

    func unknown(_ node: NodeID) -> UnknownNode? { unknownNodes[node] }
    func isDown(_ node: NodeID) -> Bool { downNodes[node] != nil }
    func isRegistering(_ node: NodeID) -> Bool { registering[node] != nil }

    /// How many registrations of `node` are in flight.
    func registrationsInFlight(of node: NodeID) -> Int { registering[node]?.count ?? 0 }

    // MARK: UNKNOWN nodes

    /// A term starts with these nodes UNKNOWN until their deadlines.
    ///
    /// A term may add more later (nodes a shard change hands over): the queue's taken head is
    /// dropped first, so sorting cannot move an entry still due behind it.
    mutating func startUnknown(_ nodes: [(deadline: BeaconInstant, node: NodeID)]) {
        guard !nodes.isEmpty else { return }
        for (deadline, node) in nodes { unknownNodes[node] = UnknownNode(deadline: deadline) }
        unknownQueue.removeFirst(unknownQueueHead)
        unknownQueueHead = 0
        unknownQueue.append(contentsOf: nodes)
        unknownQueue.sort { $0.deadline < $1.deadline }
    }

    /// Forgets the UNKNOWN and DOWN nodes `released` picks (another manager holds them now):
    /// their doubled grace and orphan timers will not fire here, and their registrations in
    /// flight are voided (see ``isVoided(_:)``). Returns how many UNKNOWN and DOWN nodes were
    /// dropped.
    mutating func release(where released: (NodeID) -> Bool) -> Int {
        for node in registering.keys where released(node) { registering[node]?.voided = true }
        let unknown = unknownNodes.keys.filter(released)
        let down = downNodes.keys.filter(released)
        for node in unknown { unknownNodes.removeValue(forKey: node) }
        for node in down { downNodes.removeValue(forKey: node) }
        releaseEmptyUnknownStorage()
        return unknown.count + down.count
    }

    /// Counts a registration of `node` against its rate limit if it is UNKNOWN (see
    /// ``RegistrationRateLimit``).
    mutating func admitRegistration(
        ofUnknown node: NodeID, at now: BeaconInstant, window: Duration, count: Int
    ) throws(DispatcherError) {
        guard var unknown = unknownNodes[node] else { return }
        try unknown.limit.admit(node, since: unknown.registeredAt, at: now, window: window, count: count)
        unknown.registeredAt = now
        unknownNodes[node] = unknown
    }

    /// The node registered (or its deadline came): it is no longer UNKNOWN.
    @discardableResult
    mutating func removeUnknown(_ node: NodeID) -> UnknownNode? {
        let removed = unknownNodes.removeValue(forKey: node)
        releaseEmptyUnknownStorage()
        return removed
    }

    /// Once no node is UNKNOWN, gives back the table and queue a leadership change filled: a
    /// dictionary keeps its capacity as entries are removed.
    private mutating func releaseEmptyUnknownStorage() {
        guard unknownNodes.isEmpty, unknownQueue.capacity > 0 || unknownNodes.capacity > 0 else { return }
        unknownNodes = [:]
        unknownQueue = []
        unknownQueueHead = 0
    }

    // MARK: Registrations in flight

    /// A registration of `node` began: until it ends, a deadline of the node that passes does not
    /// mark it DOWN. A DOWN node stays DOWN, headed for orphaning at its first deadline, until a
    /// registration of it succeeds: one that fails (its write did not commit, no room for a
    /// session) is no evidence that the node is back, and a node retrying in vain more often than
    /// `orphanAfter` would otherwise never be orphaned.
    mutating func beginRegistration(of node: NodeID) {
        registering[node, default: RegistrationInFlight()].count += 1
    }

    /// A registration of `node` ended. A deadline that passed while it was in flight counts only
    /// if the registration failed (a success is newer evidence that the node lives): returns the
    /// deadline the node missed when it must now be marked DOWN. A success also ends a DOWN
    /// node's orphan timer.
    mutating func endRegistration(of node: NodeID, registered: Bool) -> MissedDeadline? {
        guard var flight = registering[node] else { return nil }
        flight.count -= 1
        if registered {
            flight.deadlinePassed = false
            downNodes.removeValue(forKey: node)
        }
        guard flight.count == 0 else {
            registering[node] = flight
            return nil
        }
        registering.removeValue(forKey: node)
        if flight.orphanDue, downNodes.removeValue(forKey: node) != nil {
            orphansAfterFailedRegistrations.append(node)
            orphaned += 1
        }
        guard flight.deadlinePassed else { return nil }
        return removeUnknown(node) != nil ? .unknownGrace : .heartbeat
    }

    /// The DOWN nodes whose orphan timer came due while they were registering, now that every
    /// one of those registrations failed: their tasks become ORPHANED.
    mutating func takeOrphansAfterFailedRegistrations() -> [NodeID] {
        defer { orphansAfterFailedRegistrations = [] }
        return orphansAfterFailedRegistrations
    }

    /// Whether the node's registrations in flight were voided by a release: their READY write
    /// was dropped, so none of them may issue a session.
    func isVoided(_ node: NodeID) -> Bool {
        registering[node]?.voided ?? false
    }

    /// A deadline of `node` passed. Returns true when the node is DOWN from now; false when a
    /// registration of it is in flight, which decides once it ends.
    mutating func deadlinePassed(_ node: NodeID) -> Bool {
        guard registering[node] != nil else { return true }
        registering[node]?.deadlinePassed = true
        return false
    }

    // MARK: Timers

    /// Starts the orphan timer of a node that is DOWN from `now`, replacing any earlier one.
    /// `inherited`: the DOWN is the store's, found when the node was taken over, not a deadline
    /// this manager saw pass (see ``forgetInheritedDown(_:)``).
    mutating func startOrphanTimer(_ node: NodeID, at now: BeaconInstant, inherited: Bool = false) {
        nextOrphanToken += 1
        downNodes[node] = (nextOrphanToken, inherited)
        // Every timer runs for the same `orphanAfter`, so appending keeps the queue in deadline order.
        orphanQueue.append(OrphanTimer(deadline: now.advanced(by: orphanAfter), node: node, token: nextOrphanToken))
    }

    /// Stops treating `node` as DOWN if that DOWN was only taken over from the store: another
    /// writer has since shown the node alive, and this manager has no verdict of its own to
    /// insist on. Returns whether it did; a DOWN decided here stays.
    mutating func forgetInheritedDown(_ node: NodeID) -> Bool {
        guard downNodes[node]?.inherited == true else { return false }
        downNodes.removeValue(forKey: node)
        return true
    }

    /// The UNKNOWN nodes whose doubled grace ran out by `now`, no longer UNKNOWN: each is DOWN
    /// (see ``deadlinePassed(_:)``). A node registering meanwhile stays UNKNOWN, with its
    /// rate-limit count, until its registration ends.
    mutating func takeExpiredUnknown(at now: BeaconInstant) -> [NodeID] {
        var expired: [NodeID] = []
        while unknownQueueHead < unknownQueue.count, unknownQueue[unknownQueueHead].deadline <= now {
            let (deadline, node) = unknownQueue[unknownQueueHead]
            unknownQueueHead += 1
            guard let unknown = unknownNodes[node], unknown.deadline == deadline else { continue }
            if registering[node] != nil {
                registering[node]?.deadlinePassed = true
                continue
            }
            removeUnknown(node)
            expired.append(node)
        }
        releaseEmptyUnknownStorage()
        return expired
    }

    /// The nodes DOWN for `orphanAfter` by `now`, whose tasks become ORPHANED; they are no
    /// longer tracked as DOWN. A node registering when its timer comes due waits for its
    /// registrations: a success ends the timer, and failures orphan it then.
    mutating func takeDueOrphans(at now: BeaconInstant) -> [NodeID] {
        var due: [NodeID] = []
        while orphanQueueHead < orphanQueue.count, orphanQueue[orphanQueueHead].deadline <= now {
            let timer = orphanQueue[orphanQueueHead]
            orphanQueueHead += 1
            guard downNodes[timer.node]?.token == timer.token else { continue }
            if registering[timer.node] != nil {
                registering[timer.node]?.orphanDue = true
                continue
            }
            downNodes.removeValue(forKey: timer.node)
            due.append(timer.node)
            orphaned += 1
        }
        if orphanQueueHead > 1024, orphanQueueHead * 2 > orphanQueue.count {
            orphanQueue.removeFirst(orphanQueueHead)
            orphanQueueHead = 0
        }
        return due
    }

    /// The earliest UNKNOWN or orphan deadline still queued (some may be stale: firing them is a
    /// no-op).
    var nextDeadline: BeaconInstant? {
        .earliest(
            unknownQueueHead < unknownQueue.count ? unknownQueue[unknownQueueHead].deadline : nil,
            orphanQueueHead < orphanQueue.count ? orphanQueue[orphanQueueHead].deadline : nil)
    }

    /// Forgets every node and timer (the term ended).
    mutating func removeAll() {
        unknownNodes = [:]
        unknownQueue = []
        unknownQueueHead = 0
        registering = [:]
        downNodes = [:]
        orphansAfterFailedRegistrations = []
        orphanQueue = []
        orphanQueueHead = 0
    }
}
