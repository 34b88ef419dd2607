import BeaconPrimitives
public import Synchronization

/// Knows which of up to millions of nodes are alive: each registered node has a deadline that
/// beats push later, and the wheel reports the nodes whose deadlines pass.
///
/// - ``beat(_:ttl:)`` is the hot path. From any thread, with no lock, allocation or system call,
///   it stores `now + ttl` into the node's 16-byte record with one relaxed atomic store (`now` is
///   the cached clock described under ``publishBeatClock(validUntil:)``).
/// - ``register(ttl:)`` and ``remove(_:)`` are callable from any thread too.
/// - ``advance(to:deliver:)`` is called by one owner: a thread or task that sleeps until the
///   instant it returns (or ``HeartbeatTimer``, which does exactly that on a thread of its own).
///   It visits only slots that are due, re-reads the deadlines filed there, re-files nodes that
///   were beaten and delivers the rest, one batch per slot.
///
/// Expiry is never early (a node expires only once the clock has passed its latest deadline),
/// at most one slot late (plus however late the owner calls `advance`), and never lost. Removing a
/// node is final: once ``remove(_:)`` returns ``HeartbeatRemoval/removed`` that node's expiry is
/// never delivered. A beat that races its node's own expiry may be lost; the expiry is then
/// delivered, exactly once.
///
/// Nodes live in a fixed arena of `configuration.capacity` records. A handle names a record and
/// its generation; records are reused after a node expires or its removal has been recycled.
public final class HeartbeatWheel<Clock: BeaconClock>: @unchecked Sendable {
    // Safety of `@unchecked Sendable`: the arena's records are shared only through their atomic
    // fields (`link` is handed over under `registry`); `registry` is a mutex; the owner-only state
    // below is touched only inside `advance`, which `advancing` makes exclusive, and in
    // `prepareToSleep`, which the owner calls between its advances.

    /// The configuration the wheel was created with.
    public let configuration: HeartbeatWheelConfiguration
    /// The clock the wheel reads when it has no cached time and that `advance` is measured in.
    public let clock: Clock
    /// The clock reading that is the wheel's time zero; deadlines are stored relative to it.
    public let epoch: BeaconInstant

    @usableFromInline let records: UnsafeMutablePointer<HeartbeatRecord>
    private let arena: ArenaMemory
    @usableFromInline let clockLine: UnsafeMutablePointer<BeatClockLine>
    @usableFromInline let maximumTTL: HeartbeatTTL
    let slotMicros: UInt64
    let slotCount: Int
    let capacity: Int
    let stallThresholdMicros: UInt64?

    struct Registry {
        var freeHead = HeartbeatRecord.none
        var nextUnused: UInt32 = 0
        var pendingHead = HeartbeatRecord.none
    }
    let registry = PosixMutex(Registry())
    /// Removed nodes whose records the wheel has not recycled yet.
    let awaitingRecycle = Atomic<Int>(0)
    /// When the owner will next look at the wheel, in microseconds since the epoch: 0 while it is
    /// awake, `UInt64.max` when it sleeps with nothing due. A registration due earlier wakes it.
    let ownerSleepsUntilMicros = Atomic<UInt64>(0)
    let wakeSignal = WakeSignal()
    let advancing = Atomic<Bool>(false)

    // Owner-only state (inside `advance`).
    let slotHeads: UnsafeMutablePointer<UInt32>
    let occupancy: OccupancyBitmap
    /// The next tick to sweep: slot `cursor % slotCount` holds exactly the nodes filed for it.
    var cursor: UInt64 = 0
    var lastAdvanceMicros: UInt64 = 0
    var leniency = StallLeniency()
    var batch: [HeartbeatHandle] = []
    var recycled = RecycledChain()
    var counters = HeartbeatWheelStatistics()
    /// When the owner said it would next look (`prepareToSleep`), in microseconds since the
    /// epoch: the stall guard measures lateness from it when it is earlier than the next slot.
    var plannedWakeMicros: UInt64?
    /// Set when a new owner takes over (``HeartbeatTimer/start(onExpiry:)`` after a stop): the
    /// next advance does not count the time nobody owned the wheel as a stall.
    var ownerChanged = false
    /// The slot where the last look-ahead stopped because a node's deadline falls in it: the
    /// owner wakes there anyway, so no look-ahead is needed (or repeated) until it is swept.
    var lookAheadKeptTick: UInt64?

    /// A wheel on `clock`, whose epoch is the clock's current reading.
    ///
    /// - Complexity: O(S) for the S slots of the configuration (at most 2²²): the slot heads and
    ///   the occupancy bitmap are initialised. The node arena is only reserved (an anonymous
    ///   mapping), so unused capacity costs neither time nor memory.
    public init(configuration: HeartbeatWheelConfiguration = .init(), clock: Clock) throws(HeartbeatError) {
        let resolved = try configuration.resolved()
        self.configuration = configuration
        self.clock = clock
        epoch = clock.now
        maximumTTL = resolved.maximumTTL
        slotMicros = resolved.slotMicros
        slotCount = resolved.slotCount
        capacity = resolved.capacity
        stallThresholdMicros = resolved.stallThresholdMicros
        guard let arena = ArenaMemory(byteCount: resolved.capacity * MemoryLayout<HeartbeatRecord>.stride) else {
            throw .invalidConfiguration(
                "the system refused \(resolved.capacity) node records of memory; lower the capacity")
        }
        self.arena = arena
        records = arena.base.bindMemory(to: HeartbeatRecord.self, capacity: resolved.capacity)
        let line = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        clockLine = line.bindMemory(to: BeatClockLine.self, capacity: 1)
        clockLine.initialize(to: BeatClockLine())
        slotHeads = .allocate(capacity: resolved.slotCount)
        slotHeads.initialize(repeating: HeartbeatRecord.none, count: resolved.slotCount)
        occupancy = OccupancyBitmap(slotCount: resolved.slotCount)
    }

    deinit {
        let initialised = Int(clockLine.pointee.highWater.load(ordering: .relaxed))
        records.deinitialize(count: initialised)
        clockLine.deinitialize(count: 1)
        UnsafeMutableRawPointer(clockLine).deallocate()
        slotHeads.deallocate()
    }

    /// Bytes of arena memory per node: one record. The wheel's other memory is fixed by its
    /// configuration (4 bytes per slot plus a bit per slot), not by the number of nodes.
    ///
    /// - Complexity: O(1).
    public static var bytesPerNode: Int { MemoryLayout<HeartbeatRecord>.stride }

    /// Bytes the wheel's slots take, independent of how many nodes it holds.
    ///
    /// - Complexity: O(1).
    public var fixedBytes: Int { slotCount * MemoryLayout<UInt32>.stride + slotCount / 8 + slotCount / 512 + 128 }

    // MARK: Beating

    /// Pushes the node's deadline to `now + ttl`, unless it is already later.
    ///
    /// Lock-free and allocation-free: two relaxed loads of the node's record, one of the shared
    /// clock line, and one relaxed store. Relaxed ordering is enough because the deadline is a
    /// single self-contained word: the beat publishes no other data that the wheel must see with
    /// it, atomicity rules out torn values, and per-location coherence means the wheel sees this
    /// store or a later one once it becomes visible. Whether "removed" or "expired" wins is decided
    /// by compare-and-swaps on the state word, not by the deadline.
    ///
    /// A deadline never moves earlier: a beat whose `now + ttl` is before the stored deadline (a
    /// shorter, jittered TTL) leaves it alone. That is what lets the wheel file each node once and
    /// re-file it lazily.
    ///
    /// - Throws: ``HeartbeatError/expired(_:)`` once the node has expired,
    ///   ``HeartbeatError/staleHandle(_:)`` if it was removed, ``HeartbeatError/ttlAboveMaximum(ttl:maximum:)``.
    /// - Complexity: O(1), wait-free: no loop, lock or allocation, whatever the number of nodes.
    @inlinable @inline(__always)
    public func beat(_ handle: HeartbeatHandle, ttl: HeartbeatTTL) throws(HeartbeatError) {
        try beat(handle, ttl: ttl, atMicros: beatClockMicros())
    }

    /// ``beat(_:ttl:)`` counted from `now`, a reading of ``beatClockMicroseconds`` the caller has
    /// already taken (for a TTL it derived from that time), so the clock is read once per beat.
    @inlinable @inline(__always)
    package func beat(_ handle: HeartbeatHandle, ttl: HeartbeatTTL, atMicros now: UInt64) throws(HeartbeatError) {
        let record = records + Int(handle.index)
        // One combined test keeps the hot path short; the cold function works out which check failed.
        guard ttl.microseconds <= maximumTTL.microseconds,
            handle.index < clockLine.pointee.highWater.load(ordering: .relaxed),
            record.pointee.state.load(ordering: .relaxed)
                == HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.armed)
        else {
            throw beatRejection(handle, ttl: ttl)
        }
        let deadline = min(now &+ ttl.microseconds, HeartbeatRecord.deadlineMask)
        let word = HeartbeatRecord.deadlineWord(generation: handle.generation, deadline: deadline)
        let stored = record.pointee.deadline.load(ordering: .relaxed)
        // Same tag: keep the later deadline. Different tag: a stale handle clobbered this word, so
        // restore it whatever the value.
        if word > stored || (word ^ stored) >> 48 != 0 {
            record.pointee.deadline.store(word, ordering: .relaxed)
        }
    }

    /// The time a beat counts from, in microseconds since ``epoch``: the cached clock when the
    /// owner keeps it, else the clock. For layers that derive per-beat values from the time a beat
    /// sees without reading the clock again.
    ///
    /// - Complexity: O(1): a relaxed load of the shared clock line (a clock read when the cache is
    ///   withdrawn).
    @inlinable
    package var beatClockMicroseconds: UInt64 { beatClockMicros() }

    /// The time a beat counts from: the cached clock when the owner keeps it, else the clock.
    @inlinable @inline(__always)
    func beatClockMicros() -> UInt64 {
        let line = clockLine
        let cached = line.pointee.cachedMicros.load(ordering: .relaxed)
        guard cached != BeatClockLine.withdrawn else { return uncachedBeatMicros() }
        line.pointee.markUsed()
        return cached
    }

    @usableFromInline
    func uncachedBeatMicros() -> UInt64 {
        clockLine.pointee.markUsed()
        return micros(clock.now, roundingUp: true)
    }

    /// Why a beat through `handle` with `ttl` was refused.
    @usableFromInline @inline(never)
    func beatRejection(_ handle: HeartbeatHandle, ttl: HeartbeatTTL) -> HeartbeatError {
        guard ttl <= maximumTTL else { return .ttlAboveMaximum(ttl: ttl, maximum: maximumTTL) }
        guard handle.index < clockLine.pointee.highWater.load(ordering: .relaxed) else { return .unknownHandle(handle) }
        let state = records[Int(handle.index)].state.load(ordering: .relaxed)
        if state == HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.expired) {
            return .expired(handle)
        }
        return .staleHandle(handle)
    }

    /// Microseconds since the epoch; before the epoch reads as 0.
    func micros(_ instant: BeaconInstant, roundingUp: Bool) -> UInt64 {
        guard instant.nanoseconds > epoch.nanoseconds else { return 0 }
        let nanos = instant.nanoseconds - epoch.nanoseconds
        return roundingUp ? (nanos + 999) / 1000 : nanos / 1000
    }

    /// The end of tick `tick`'s slot: when a node filed there is due to be swept.
    func slotEndMicros(ofTick tick: UInt64) -> UInt64 {
        (tick + 1) * slotMicros
    }

    func instant(micros: UInt64) -> BeaconInstant {
        BeaconInstant(nanoseconds: epoch.nanoseconds &+ micros &* 1000)
    }

    // MARK: The cached beat clock

    /// Lets beats use `instant` as "now" instead of reading the clock, until
    /// ``withdrawBeatClock()``.
    ///
    /// Reading the system clock costs 10–30 ns here, several times a whole beat, so the owner
    /// publishes the time at which it will next refresh, an upper bound on the true time as long as
    /// it wakes on time. Deadlines computed from it are therefore never early; they are late by at
    /// most one refresh period. If the owner is stalled past that, the stall guard extends
    /// deadlines by the stall. ``HeartbeatTimer`` publishes while beats arrive and withdraws before
    /// sleeping for longer than a refresh period, so an idle wheel causes no wake-ups.
    ///
    /// - Complexity: O(1): one relaxed store.
    public func publishBeatClock(validUntil instant: BeaconInstant) {
        clockLine.pointee.cachedMicros.store(micros(instant, roundingUp: true), ordering: .relaxed)
    }

    /// Makes beats read the clock themselves (exact, slower) until the next publish.
    ///
    /// - Complexity: O(1): one relaxed store.
    public func withdrawBeatClock() {
        clockLine.pointee.cachedMicros.store(BeatClockLine.withdrawn, ordering: .relaxed)
    }

    /// Whether any beat ran since the previous call (and resets the answer).
    ///
    /// - Complexity: O(1): one atomic exchange.
    public func takeBeatClockUsage() -> Bool {
        clockLine.pointee.used.exchange(false, ordering: .relaxed)
    }

    // MARK: Registering and removing

    /// Registers a node whose first deadline is `now + ttl` on the wheel's clock.
    ///
    /// Takes a short lock (the registry's free list). The node is filed into the wheel on the
    /// owner's next `advance`; if it is due before the owner planned to wake, the owner is woken.
    ///
    /// - Throws: ``HeartbeatError/capacityExhausted(capacity:awaitingRecycle:)`` when the arena is
    ///   full, ``HeartbeatError/ttlAboveMaximum(ttl:maximum:)``.
    /// - Complexity: O(1): a record is taken from the free list (or the arena's next unused one)
    ///   under a lock held for a few stores, whatever the number of nodes.
    public func register(ttl: HeartbeatTTL) throws(HeartbeatError) -> HeartbeatHandle {
        guard ttl <= maximumTTL else { throw .ttlAboveMaximum(ttl: ttl, maximum: maximumTTL) }
        let deadline = micros(clock.now, roundingUp: true) + ttl.microseconds
        guard deadline <= HeartbeatRecord.deadlineMask else { throw .clockRangeExhausted }
        let handle = try registry.withLock { registry throws(HeartbeatError) -> HeartbeatHandle in
            let index: UInt32
            if registry.freeHead != HeartbeatRecord.none {
                index = registry.freeHead
                registry.freeHead = records[Int(index)].link
            } else if Int(registry.nextUnused) < capacity {
                index = registry.nextUnused
                (records + Int(index)).initialize(to: HeartbeatRecord())
                registry.nextUnused += 1
                clockLine.pointee.highWater.store(registry.nextUnused, ordering: .releasing)
            } else {
                throw .capacityExhausted(capacity: capacity, awaitingRecycle: awaitingRecycle.load(ordering: .relaxed))
            }
            let record = records + Int(index)
            let previous = record.pointee.state.load(ordering: .relaxed)
            let generation = ((previous >> 2) &+ 1) & HeartbeatRecord.generationMask
            record.pointee.deadline.store(
                HeartbeatRecord.deadlineWord(generation: generation, deadline: deadline), ordering: .relaxed)
            record.pointee.state.store(
                HeartbeatRecord.state(generation: generation, phase: HeartbeatRecord.armed), ordering: .releasing)
            record.pointee.link = registry.pendingHead
            registry.pendingHead = index
            return HeartbeatHandle(index: index, generation: generation)
        }
        // Pairs with the owner's store before it re-checks the pending list (see `prepareToSleep`):
        // either the owner sees this registration, or this load sees the owner's planned wake.
        let dueMicros = slotEndMicros(ofTick: deadline / slotMicros)
        if dueMicros < ownerSleepsUntilMicros.load(ordering: .sequentiallyConsistent) {
            wakeSignal.signal()
        }
        return handle
    }

    /// Removes a node. After this returns ``HeartbeatRemoval/removed``, the node's expiry is never
    /// delivered; if it returns ``HeartbeatRemoval/alreadyExpired`` the expiry won the race and is
    /// (or was) delivered. The record is recycled when the wheel next passes the node's slot.
    ///
    /// - Throws: ``HeartbeatError/staleHandle(_:)`` if the node was already removed or its record
    ///   reused.
    /// - Complexity: O(1): one compare-and-swap; the record is recycled by a later
    ///   ``advance(to:deliver:)``.
    @discardableResult
    public func remove(_ handle: HeartbeatHandle) throws(HeartbeatError) -> HeartbeatRemoval {
        guard handle.index < clockLine.pointee.highWater.load(ordering: .acquiring) else {
            throw .unknownHandle(handle)
        }
        let record = records + Int(handle.index)
        let armed = HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.armed)
        let removed = HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.removed)
        let (exchanged, found) = record.pointee.state.compareExchange(
            expected: armed, desired: removed, ordering: .acquiringAndReleasing)
        if exchanged {
            awaitingRecycle.add(1, ordering: .relaxed)
            return .removed
        }
        if found == HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.expired) {
            return .alreadyExpired
        }
        throw .staleHandle(handle)
    }

    /// Whether `handle`'s node is registered and not expired or removed.
    ///
    /// - Complexity: O(1): two atomic loads.
    public func isArmed(_ handle: HeartbeatHandle) -> Bool {
        guard handle.index < clockLine.pointee.highWater.load(ordering: .acquiring) else { return false }
        let state = records[Int(handle.index)].state.load(ordering: .relaxed)
        return state == HeartbeatRecord.state(generation: handle.generation, phase: HeartbeatRecord.armed)
    }
}

/// What ``HeartbeatWheel/remove(_:)`` did.
public enum HeartbeatRemoval: Sendable, Hashable {
    /// The node was armed and is now removed; its expiry will never be delivered.
    case removed
    /// The node had already expired; its expiry is or was delivered.
    case alreadyExpired
}
