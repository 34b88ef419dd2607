import Synchronization

extension HeartbeatWheel {
    /// Sweeps every slot whose time has passed by `now`: nodes whose deadlines moved later are
    /// filed again, the rest expire and are handed to `deliver`, one call per slot.
    ///
    /// It then looks ahead: nodes in the next ``lookAheadSlots`` slots that were beaten since they
    /// were filed are filed again under their later deadlines now, up to ``lookAheadBudget`` nodes
    /// a call, so that the instant it returns is a slot where a node may really expire, or the
    /// end of the look-ahead, rather than the next slot holding a node that has long moved on.
    /// With many nodes beating steadily nearly every slot holds such a node, and without the
    /// look-ahead the owner would wake once a slot.
    ///
    /// Call it from one owner at a time, at or soon after the instant it returns (the end of the
    /// next occupied slot), or earlier when woken. `deliver` runs on the caller's thread; it may
    /// register, beat and remove, but not advance.
    ///
    /// - Returns: when the wheel next has a slot due, or nil if it holds no nodes.
    /// - Throws: ``HeartbeatError/concurrentAdvance`` if another advance is running,
    ///   ``HeartbeatError/clockWentBackwards(by:)`` if `now` is before the previous call's.
    /// - Complexity: O(p + v + s·(1 + S/4096)), plus the time `deliver` takes, for p registrations
    ///   since the previous call, s occupied slots due or looked ahead at, v nodes filed in them
    ///   (at most ``lookAheadBudget`` of them ahead) and a wheel of S slots. Each node is re-filed,
    ///   expired or recycled in O(1); each next occupied slot is found in the two-level bitmap, at
    ///   most S/4096 summary words. Slots that hold no node cost nothing, so an idle wheel is
    ///   swept in O(1).
    @discardableResult
    public func advance(
        to now: BeaconInstant, deliver: (HeartbeatExpiry) -> Void
    ) throws(HeartbeatError) -> BeaconInstant? {
        guard !advancing.exchange(true, ordering: .acquiring) else { throw .concurrentAdvance }
        defer { advancing.store(false, ordering: .releasing) }
        ownerSleepsUntilMicros.store(0, ordering: .sequentiallyConsistent)

        let nowMicros = micros(now, roundingUp: false)
        guard nowMicros >= lastAdvanceMicros else {
            throw .clockWentBackwards(by: .microseconds(Int64(lastAdvanceMicros - nowMicros)))
        }
        let nowTick = nowMicros / slotMicros
        filePendingRegistrations(nowTick: nowTick)
        detectStall(nowMicros: nowMicros)
        while let tick = nextOccupiedTick(), tick < nowTick {
            sweep(tick: tick, nowMicros: nowMicros, deliver: deliver)
        }
        cursor = max(cursor, nowTick)
        lastAdvanceMicros = nowMicros
        refileAhead()
        returnRecycledRecords()
        return nextDue()
    }

    /// The most nodes one ``advance(to:deliver:)`` re-files ahead of their slots: it bounds the
    /// time a call takes.
    public static var lookAheadBudget: Int { 1024 }

    /// How many slots past the cursor ``advance(to:deliver:)`` looks ahead (fewer when the stall
    /// threshold is short: at most an eighth of it). An owner then wakes
    /// about once per this many slots while every node beats on time, instead of once a slot. The
    /// look-ahead files a node again a little before the sweep would have (at most this many
    /// slots), so a beat that lands in between costs one more re-filing later: a node beating
    /// every 3 s re-filed 128 ms early needs one extra re-filing in about 23 (4 %).
    public static var lookAheadSlots: Int { 128 }

    /// Counters since the wheel was created. Owner-only: read between calls to `advance`.
    ///
    /// - Complexity: O(1).
    public var statistics: HeartbeatWheelStatistics { counters }

    /// The end of the next occupied slot, or nil when no node is filed. Owner-only.
    func nextDue() -> BeaconInstant? {
        nextOccupiedTick().map { instant(micros: slotEndMicros(ofTick: $0)) }
    }

    /// A new owner takes over after the last one stopped: forgets the wake the last one planned
    /// and lets the next advance skip the stall check. Call it before the new owner's first
    /// advance, ordered after the last owner's end (a thread join, then a thread start).
    func ownerWillChange() {
        plannedWakeMicros = nil
        ownerChanged = true
    }

    /// Tells registrations that the owner will not look at the wheel before `wake` (nil: not
    /// before it is woken), and reports whether registrations arrived meanwhile, in which case
    /// the owner must not sleep. Either this sees a registration, or that registration sees the
    /// planned wake and signals: both sides use sequentially consistent accesses.
    func prepareToSleep(until wake: BeaconInstant?) -> Bool {
        let wakeMicros = wake.map { micros($0, roundingUp: false) } ?? .max
        plannedWakeMicros = wake == nil ? nil : wakeMicros
        ownerSleepsUntilMicros.store(max(wakeMicros, 1), ordering: .sequentiallyConsistent)
        return registry.withLock { $0.pendingHead == HeartbeatRecord.none }
    }

    // MARK: Owner-only internals

    private func nextOccupiedTick() -> UInt64? {
        let mask = UInt64(slotCount - 1)
        guard let slot = occupancy.nextOccupied(from: Int(cursor & mask)) else { return nil }
        return cursor + ((UInt64(slot) &- cursor) & mask)
    }

    /// If the owner is later than the threshold for the earliest filed slot, the stall runs from
    /// that slot's end to now. Deadlines before the slot's end would have expired on time anyway;
    /// later ones passed during the stall (or were computed from a clock the stall left stale) and
    /// count as the stall's length later.
    private func detectStall(nowMicros: UInt64) {
        let planned = plannedWakeMicros
        plannedWakeMicros = nil
        // The time between two owners is not a stall: no beat read a cached clock meanwhile
        // (the last owner withdrew it as it stopped), and what fell due then is simply due.
        guard !ownerChanged else {
            ownerChanged = false
            return
        }
        guard let threshold = stallThresholdMicros, let tick = nextOccupiedTick() else { return }
        // An owner that planned to wake before the next occupied slot (a timer refreshing its
        // cached clock, or one the look-ahead let sleep past slots it emptied) is late from then.
        let dueMicros = min(slotEndMicros(ofTick: tick), planned ?? .max)
        guard nowMicros > dueMicros, nowMicros - dueMicros > threshold else { return }
        let stall = nowMicros - dueMicros
        // Beats during the stall may have used a cached clock that was stale by up to `stall`, so
        // the grace covers every deadline up to one maximum TTL ahead, not only the passed ones.
        leniency.add(stallMicros: stall, until: nowMicros + maximumTTL.microseconds, now: nowMicros)
        counters.stalls += 1
    }

    private func filePendingRegistrations(nowTick: UInt64) {
        var index = registry.withLock { registry in
            let head = registry.pendingHead
            registry.pendingHead = HeartbeatRecord.none
            return head
        }
        if index != HeartbeatRecord.none, nextOccupiedTick() == nil {
            // Nothing is filed, so the ticks the slots stand for can move up to the earliest new
            // deadline (or now): after a wheel sat empty for longer than its span, its nodes are
            // then filed under their own deadlines, not clamped to a horizon that ended meanwhile
            // and taken for a stall of the whole idle time.
            cursor = max(cursor, min(earliestDeadlineTick(from: index), nowTick))
        }
        while index != HeartbeatRecord.none {
            let record = records + Int(index)
            let next = record.pointee.link
            let state = record.pointee.state.load(ordering: .acquiring)
            if state & HeartbeatRecord.phaseMask == HeartbeatRecord.removed {
                recycle(index, removal: true)
            } else {
                let word = record.pointee.deadline.load(ordering: .relaxed)
                file(index, deadline: word & HeartbeatRecord.deadlineMask)
            }
            index = next
        }
    }

    private func sweep(tick: UInt64, nowMicros: UInt64, deliver: (HeartbeatExpiry) -> Void) {
        let slot = Int(tick & UInt64(slotCount - 1))
        var index = slotHeads[slot]
        slotHeads[slot] = HeartbeatRecord.none
        occupancy.clear(slot)
        cursor = tick + 1
        counters.slotsSwept += 1
        batch.removeAll(keepingCapacity: true)
        while index != HeartbeatRecord.none {
            let next = records[Int(index)].link
            let (state, filing) = readFiling(index)
            switch filing {
            case .removed:
                recycle(index, removal: true)
            case .clobbered(let word):
                repairClobberedDeadline(index, state: state, word: word, nowMicros: nowMicros)
            case .deadline(let effective) where effective > nowMicros:
                counters.refiled += 1
                file(index, deadline: effective)
            case .deadline:
                let generation = state >> 2
                let expired = HeartbeatRecord.state(generation: generation, phase: HeartbeatRecord.expired)
                let (won, _) = records[Int(index)].state.compareExchange(
                    expected: state, desired: expired, ordering: .acquiringAndReleasing)
                if won {
                    batch.append(HeartbeatHandle(index: index, generation: generation))
                    recycle(index, removal: false)
                } else {
                    // Only `remove` changes an armed state besides the wheel.
                    recycle(index, removal: true)
                }
            }
            index = next
        }
        if !batch.isEmpty {
            counters.expired += batch.count
            deliver(HeartbeatExpiry(slotEnd: instant(micros: slotEndMicros(ofTick: tick)), handles: batch))
        }
    }

    /// Re-files the nodes of the coming occupied slots under their current deadlines, slot by
    /// slot, until a slot keeps a node (one whose deadline really falls in it, the next instant
    /// anything may expire), the look-ahead's last slot is passed or the budget is spent. Nothing
    /// expires here and nothing moves earlier than its deadline, so expiry stays never early; a
    /// beat after the look-ahead read a deadline only makes that deadline later, which the sweep
    /// handles as before.
    private func refileAhead() {
        if let kept = lookAheadKeptTick {
            if kept >= cursor { return }
            lookAheadKeptTick = nil
        }
        var budget = Self.lookAheadBudget
        let end = cursor + UInt64(lookAheadSpan)
        while budget > 0, let tick = nextOccupiedTick(), tick < end {
            let slot = Int(tick & UInt64(slotCount - 1))
            var index = slotHeads[slot]
            slotHeads[slot] = HeartbeatRecord.none
            occupancy.clear(slot)
            while index != HeartbeatRecord.none {
                budget -= 1
                let next = records[Int(index)].link
                switch readFiling(index).filing {
                case .removed:
                    recycle(index, removal: true)
                case .clobbered:
                    // A clobbered deadline is the sweep's to repair: keep the node in its slot.
                    file(index, deadline: tick * slotMicros)
                case .deadline(let effective):
                    file(index, deadline: effective)
                    if effective / slotMicros > tick { counters.refiledAhead += 1 }
                }
                index = next
            }
            if occupancy.isOccupied(slot) {
                lookAheadKeptTick = tick
                return
            }
        }
    }

    /// How many slots the look-ahead spans: ``lookAheadSlots``, and at most an eighth of the
    /// stall threshold. An owner the look-ahead lets sleep past emptied slots is measured late
    /// from its planned wake, so a pause that starts just after an advance must outlast the
    /// threshold plus up to this span before the stall guard sees it; an eighth keeps that
    /// within 12.5 % of the threshold (125 slots at 1 ms slots and the default 1 s threshold,
    /// 12 at 10 ms).
    private var lookAheadSpan: Int {
        var span = min(Self.lookAheadSlots, slotCount - 1)
        if let threshold = stallThresholdMicros { span = min(span, Int(threshold / 8 / slotMicros)) }
        return span
    }

    /// What a filed record holds, as a sweep or the look-ahead reads it.
    private enum Filing {
        case removed
        /// A deadline written through a stale handle (see `repairClobberedDeadline`).
        case clobbered(word: UInt64)
        /// The node's deadline, with the stall guard's grace added.
        case deadline(UInt64)
    }

    /// Reads a filed record's state (acquiring, so a removal's writes are seen) and deadline.
    @inline(__always)
    private func readFiling(_ index: UInt32) -> (state: UInt32, filing: Filing) {
        let record = records + Int(index)
        let state = record.pointee.state.load(ordering: .acquiring)
        if state & HeartbeatRecord.phaseMask == HeartbeatRecord.removed { return (state, .removed) }
        let word = record.pointee.deadline.load(ordering: .relaxed)
        if UInt32(truncatingIfNeeded: word >> 48) != (state >> 2) & 0xFFFF { return (state, .clobbered(word: word)) }
        let deadline = word & HeartbeatRecord.deadlineMask
        return (state, .deadline(deadline + leniency.grace(for: deadline)))
    }

    /// A beat through a stale handle can, in a race a few instructions wide, land after the
    /// record was reused, leaving a deadline tagged with the old generation. The new occupant's
    /// true deadline is then unknown, but it is at most one maximum TTL after now (every valid
    /// write was `time + ttl` with `time <= now`), so waiting that long is never early. The
    /// compare-and-swap loses only to a valid beat, which fixes the word itself.
    private func repairClobberedDeadline(_ index: UInt32, state: UInt32, word: UInt64, nowMicros: UInt64) {
        let deadline = min(nowMicros + maximumTTL.microseconds, HeartbeatRecord.deadlineMask)
        let repaired = HeartbeatRecord.deadlineWord(generation: state >> 2, deadline: deadline)
        _ = records[Int(index)].deadline.compareExchange(expected: word, desired: repaired, ordering: .relaxed)
        counters.repairedDeadlines += 1
        file(index, deadline: deadline)
    }

    /// Files a node in the slot of `deadline`, no earlier than the cursor (the next tick to sweep)
    /// and no later than the wheel's horizon (a node parked at the horizon is re-checked there and
    /// filed again).
    private func file(_ index: UInt32, deadline: UInt64) {
        let tick = min(max(deadline / slotMicros, cursor), cursor + UInt64(slotCount) - 1)
        let slot = Int(tick & UInt64(slotCount - 1))
        let head = slotHeads[slot]
        records[Int(index)].link = head
        slotHeads[slot] = index
        if head == HeartbeatRecord.none { occupancy.set(slot) }
    }

    /// The tick of the earliest deadline in the chain of registrations from `index`, removed
    /// ones aside; `UInt64.max` when all were removed.
    private func earliestDeadlineTick(from index: UInt32) -> UInt64 {
        var earliest = UInt64.max
        var index = index
        while index != HeartbeatRecord.none {
            let record = records + Int(index)
            let state = record.pointee.state.load(ordering: .acquiring)
            if state & HeartbeatRecord.phaseMask != HeartbeatRecord.removed {
                let deadline = record.pointee.deadline.load(ordering: .relaxed) & HeartbeatRecord.deadlineMask
                earliest = min(earliest, deadline / slotMicros)
            }
            index = record.pointee.link
        }
        return earliest
    }

    private func recycle(_ index: UInt32, removal: Bool) {
        records[Int(index)].link = HeartbeatRecord.none
        if recycled.tail == HeartbeatRecord.none {
            recycled.tail = index
        } else {
            records[Int(index)].link = recycled.head
        }
        recycled.head = index
        if removal { recycled.removals += 1 }
    }

    private func returnRecycledRecords() {
        guard recycled.head != HeartbeatRecord.none else { return }
        let chain = recycled
        recycled = RecycledChain()
        registry.withLock { registry in
            records[Int(chain.tail)].link = registry.freeHead
            registry.freeHead = chain.head
        }
        if chain.removals > 0 {
            awaitingRecycle.subtract(chain.removals, ordering: .relaxed)
            counters.recycledRemovals += chain.removals
        }
    }
}
