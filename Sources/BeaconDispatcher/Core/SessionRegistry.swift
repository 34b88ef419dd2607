import BeaconCore

/// The nodes that hold a session, by heartbeat-wheel slot: who is registered where, each node's
/// rate-limit count, and the session stream each session feeds.
///
/// A value with no clock, lock or wheel: ``DispatcherCore`` registers the node in the wheel and
/// arms the lock-free ``SessionTable``, then records the registration here; it asks here which
/// slot a node holds and whether a session is the current one, and performs what the answers
/// call for.
struct SessionRegistry {
    /// One registered node, indexed by its wheel slot.
    struct Registration {
        var node: NodeID
        var handle: HeartbeatHandle
        /// When the last counted registration happened.
        var registeredAt: BeaconInstant
        var limit: RegistrationRateLimit
    }

    /// What is kept per slot: a ``Registration`` without its handle's index, which is the slot
    /// itself. 40 bytes instead of 48 (most of a node's memory: the node id's 24 bytes, then the
    /// generation and the rate-limit count packed into one word, then the time).
    private struct Stored {
        var node: NodeID
        var generation: UInt32
        var limit: RegistrationRateLimit
        var registeredAt: BeaconInstant

        init(_ registration: Registration) {
            node = registration.node
            generation = registration.handle.generation
            limit = registration.limit
            registeredAt = registration.registeredAt
        }

        func registration(inSlot slot: UInt32) -> Registration {
            Registration(
                node: node, handle: HeartbeatHandle(index: slot, generation: generation), registeredAt: registeredAt,
                limit: limit)
        }
    }

    private var index = NodeIndex()
    private var registrations = SlotArray<Stored>()
    /// The session stream of each slot whose node follows one.
    private(set) var sinks: [UInt32: StreamEvent<SessionMessage>.Sink] = [:]
    /// Sessions issued, for ``DispatcherCounters/registrations``.
    private(set) var issued = 0

    /// Registered nodes.
    var count: Int { registrations.count }

    var all: some Sequence<Registration> {
        registrations.indexedValues.lazy.map { slot, stored in stored.registration(inSlot: slot) }
    }

    subscript(slot: UInt32) -> Registration? { registrations[slot]?.registration(inSlot: slot) }

    /// The slot `node` is registered in, if it is.
    func slot(of node: NodeID) -> UInt32? {
        index.slot(of: node) { registrations[$0]?.node }
    }

    /// True when `session` names the registration `node` holds now. The caller checks the
    /// session's secret in the ``SessionTable``; this checks the handle's generation and the node.
    func holds(_ session: SessionID, of node: NodeID) -> Bool {
        guard let stored = registrations[session.handle.index] else { return false }
        return stored.generation == session.handle.generation && stored.node == node
    }

    /// Counts a registration of the node in `slot` against its rate limit (see
    /// ``RegistrationRateLimit``).
    mutating func admitRegistration(
        inSlot slot: UInt32, at now: BeaconInstant, window: Duration, count: Int
    ) throws(DispatcherError) {
        guard var stored = registrations[slot] else { return }
        try stored.limit.admit(stored.node, since: stored.registeredAt, at: now, window: window, count: count)
        stored.registeredAt = now
        registrations[slot] = stored
    }

    /// Records a session just issued in the wheel slot of `registration.handle`; the node must
    /// hold no other slot.
    mutating func insert(_ registration: Registration) {
        registrations[registration.handle.index] = Stored(registration)
        index.insert(registration.node, slot: registration.handle.index) { registrations[$0]?.node }
        issued += 1
    }

    /// Forgets the registration in `slot` (the caller removes its stream first).
    mutating func remove(_ slot: UInt32) -> Registration? {
        guard let stored = registrations[slot] else { return nil }
        if self.slot(of: stored.node) == slot {
            index.remove(stored.node) { registrations[$0]?.node }
        }
        registrations.removeValue(forKey: slot)
        return stored.registration(inSlot: slot)
    }

    /// Sends the session in `slot` its session messages through `sink`; returns the one it
    /// replaced, for the caller to end.
    mutating func attach(_ sink: @escaping StreamEvent<SessionMessage>.Sink, toSlot slot: UInt32)
        -> StreamEvent<SessionMessage>.Sink?
    {
        sinks.updateValue(sink, forKey: slot)
    }

    /// Takes the session stream of `slot`, for the caller to end.
    mutating func detachSink(ofSlot slot: UInt32) -> StreamEvent<SessionMessage>.Sink? {
        sinks.removeValue(forKey: slot)
    }

    /// Forgets every registration and stream (the term ended).
    mutating func removeAll() {
        index.removeAll()
        registrations.removeAll()
        sinks = [:]
    }
}
