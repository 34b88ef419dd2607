import Synchronization

extension HeartbeatWheel {
    /// Sweeps every slot whose time has passed by `now`: nodes whose deadlines moved later are
    /// filed again, the rest expire and are handed to `deliver`, one call per slot.
    ///
    /// Call it from one owner at a time, at or soon after the instant it returns (the end of the
    /// next occupied slot), or earlier when woken. `deliver` runs on the caller's thread; it may
    /// register, beat and remove, but not advance.
    ///
    /// - Returns: when the wheel next has a slot due, or nil if it holds no nodes.
    /// - Throws: ``HeartbeatError/concurrentAdvance`` if another advance is running,
    ///   ``HeartbeatError/clockWentBackwards(by:)`` if `now` is before the previous call's.
    /// - Complexity: O(p + v + s·(1 + S/4096)), plus the time `deliver` takes, for p registrations
    ///   since the previous call, s occupied slots due, v nodes filed in them and a wheel of S
    ///   slots. Each node is re-filed, expired or recycled in O(1); each next occupied slot is
    ///   found in the two-level bitmap, at most S/4096 summary words. Slots that hold no node cost
    ///   nothing, so an idle wheel is swept in O(1).
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
        filePendingRegistrations()
        detectStall(nowMicros: nowMicros)
        let nowTick = nowMicros / slotMicros
        while let tick = nextOccupiedTick(), tick < nowTick {
            sweep(tick: tick, nowMicros: nowMicros, deliver: deliver)
        }
        cursor = max(cursor, nowTick)
        lastAdvanceMicros = nowMicros
        returnRecycledRecords()
        return nextDue()
    }

    /// Counters since the wheel was created. Owner-only: read between calls to `advance`.
    ///
    /// - Complexity: O(1).
    public var statistics: HeartbeatWheelStatistics { counters }

    /// The end of the next occupied slot, or nil when no node is filed. Owner-only.
    func nextDue() -> BeaconInstant? {
        nextOccupiedTick().map { instant(micros: slotEndMicros(ofTick: $0)) }
    }

    /// Tells registrations that the owner will not look at the wheel before `wake` (nil: not
    /// before it is woken), and reports whether registrations arrived meanwhile, in which case
    /// the owner must not sleep. Either this sees a registration, or that registration sees the
    /// planned wake and signals: both sides use sequentially consistent accesses.
    func prepareToSleep(until wake: BeaconInstant?) -> Bool {
        let wakeMicros = wake.map { micros($0, roundingUp: false) } ?? .max
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
        guard let threshold = stallThresholdMicros, let tick = nextOccupiedTick() else { return }
        let dueMicros = slotEndMicros(ofTick: tick)
        guard nowMicros > dueMicros, nowMicros - dueMicros > threshold else { return }
        let stall = nowMicros - dueMicros
        // Beats during the stall may have used a cached clock that was stale by up to `stall`, so
        // the grace covers every deadline up to one maximum TTL ahead, not only the passed ones.
        leniency.add(stallMicros: stall, until: nowMicros + maximumTTL.microseconds, now: nowMicros)
        counters.stalls += 1
    }

    private func filePendingRegistrations() {
        var index = registry.withLock { registry in
            let head = registry.pendingHead
            registry.pendingHead = HeartbeatRecord.none
            return head
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
            let record = records + Int(index)
            let next = record.pointee.link
            let state = record.pointee.state.load(ordering: .acquiring)
            let generation = state >> 2
            if state & HeartbeatRecord.phaseMask == HeartbeatRecord.removed {
                recycle(index, removal: true)
                index = next
                continue
            }
            let word = record.pointee.deadline.load(ordering: .relaxed)
            if UInt32(truncatingIfNeeded: word >> 48) != generation & 0xFFFF {
                repairClobberedDeadline(index, state: state, word: word, nowMicros: nowMicros)
                index = next
                continue
            }
            let deadline = word & HeartbeatRecord.deadlineMask
            let effective = deadline + leniency.grace(for: deadline)
            if effective > nowMicros {
                counters.refiled += 1
                file(index, deadline: effective)
            } else {
                let expired = HeartbeatRecord.state(generation: generation, phase: HeartbeatRecord.expired)
                let (won, _) = record.pointee.state.compareExchange(
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
