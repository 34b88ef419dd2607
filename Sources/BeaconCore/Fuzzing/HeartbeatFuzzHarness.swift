/// The `HeartbeatFuzz` libFuzzer target's logic: decodes bytes into register, beat, remove and
/// advance-time steps on a wheel driven by a manual clock, mirrors them in a plain model (a list
/// of nodes with their latest deadlines), and after every step checks that nothing expired early,
/// nothing due was lost, nothing was delivered twice or after its removal, and that stale handles
/// were rejected with the right error.
///
/// It lives in the library (with `package` access) so unit and property tests run the same code.
/// Not for use outside Beacon's tests and fuzzers.
package enum HeartbeatFuzzHarness {
    /// Runs one input; returns a description of the first broken invariant, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var bytes = FuzzByteReader(input)
        do {
            var state = try State(shape: bytes.byte())
            while let op = bytes.next() {
                if let failure = try state.step(op, &bytes) { return failure }
            }
            return try state.finish()
        } catch {
            return "unexpected error: \(error)"
        }
    }

    enum Phase { case armed, expired, removed }

    struct Node {
        let handle: HeartbeatHandle
        var phase: Phase
        /// Microseconds since the wheel's epoch.
        var deadline: UInt64
    }

    struct State {
        let clock: ManualClock
        let wheel: HeartbeatWheel<ManualClock>
        let slotMicros: UInt64
        let maximumTTLMicros: UInt64
        var nodes: [Node] = []
        /// The newest generation issued for each record: older handles on that record are stale.
        var newestGeneration: [UInt32: UInt32] = [:]
        var nowMicros: UInt64 = 0
        var publishesBeatClock = false

        init(shape: Int) throws {
            slotMicros = [1000, 2000, 5000, 10_000][shape & 3]
            maximumTTLMicros = slotMicros * [4, 16, 64][(shape >> 2) % 3]
            let capacity = [4, 16, 64][(shape >> 4) % 3]
            clock = ManualClock(start: BeaconInstant(nanoseconds: 1_000_000_000))
            wheel = try HeartbeatWheel(
                configuration: .init(
                    slotWidth: .microseconds(Int64(slotMicros)), maximumTTL: .microseconds(Int64(maximumTTLMicros)),
                    capacity: capacity, stallThreshold: nil),
                clock: clock)
        }

        /// 1 µs up to the maximum TTL; byte 255 asks for one microsecond too many.
        func ttlMicros(_ byte: Int) -> UInt64 {
            byte == 255 ? maximumTTLMicros + 1 : max(1, UInt64(byte) * maximumTTLMicros / 254)
        }

        func isStale(_ handle: HeartbeatHandle) -> Bool {
            newestGeneration[handle.index] != handle.generation
        }

        mutating func step(_ op: UInt8, _ bytes: inout FuzzByteReader) throws -> String? {
            switch op % 8 {
            case 0, 1: return try register(ttlMicros(bytes.byte()))
            case 2, 3: return beat(bytes.byte(), ttlMicros(bytes.byte()))
            case 4: return remove(bytes.byte())
            case 5, 6: return try advance(bytes.byte())
            default:
                publishesBeatClock.toggle()
                if publishesBeatClock {
                    wheel.publishBeatClock(validUntil: clock.now)
                } else {
                    wheel.withdrawBeatClock()
                }
                return nil
            }
        }

        mutating func register(_ ttl: UInt64) throws -> String? {
            let handle: HeartbeatHandle
            do {
                handle = try wheel.register(ttl: HeartbeatTTL(.microseconds(Int64(ttl))))
            } catch {
                return registrationRefused(error, ttl: ttl)
            }
            if ttl > maximumTTLMicros { return "register accepted TTL \(ttl) µs above the maximum" }
            if let previous = nodes.last(where: { $0.handle.index == handle.index }) {
                if previous.phase == .armed { return "\(handle) reused the record of armed \(previous.handle)" }
                if previous.handle.generation == handle.generation { return "\(handle) repeated a generation" }
            }
            newestGeneration[handle.index] = handle.generation
            nodes.append(Node(handle: handle, phase: .armed, deadline: nowMicros + ttl))
            return nil
        }

        func registrationRefused(_ error: any Error, ttl: UInt64) -> String? {
            switch error as? HeartbeatError {
            case .ttlAboveMaximum?:
                return ttl > maximumTTLMicros ? nil : "register refused TTL \(ttl) µs within the maximum"
            case .capacityExhausted(let capacity, let awaitingRecycle)?:
                let armed = nodes.count { $0.phase == .armed }
                return armed + awaitingRecycle == capacity
                    ? nil
                    : "capacity reported full with \(armed) armed and \(awaitingRecycle) awaiting recycle of \(capacity)"
            default:
                return "register threw \(error)"
            }
        }

        mutating func beat(_ pick: Int, _ ttl: UInt64) -> String? {
            guard !nodes.isEmpty else { return nil }
            let position = pick % nodes.count
            let node = nodes[position]
            let expected: HeartbeatError? =
                ttl > maximumTTLMicros
                ? .ttlAboveMaximum(ttl: HeartbeatTTL(uncheckedMicroseconds: ttl), maximum: wheel.maximumTTL)
                : isStale(node.handle) || node.phase == .removed
                    ? .staleHandle(node.handle)
                    : node.phase == .expired ? .expired(node.handle) : nil
            do {
                try wheel.beat(node.handle, ttl: HeartbeatTTL(uncheckedMicroseconds: ttl))
            } catch {
                return error == expected
                    ? nil : "beat on \(node.handle) threw \(error), expected \(String(describing: expected))"
            }
            if let expected { return "beat on \(node.handle) succeeded, expected \(expected)" }
            nodes[position].deadline = max(node.deadline, nowMicros + ttl)
            return nil
        }

        mutating func remove(_ pick: Int) -> String? {
            guard !nodes.isEmpty else { return nil }
            let position = pick % nodes.count
            let node = nodes[position]
            let expected: Result<HeartbeatRemoval, HeartbeatError> =
                isStale(node.handle) || node.phase == .removed
                ? .failure(.staleHandle(node.handle))
                : node.phase == .expired ? .success(.alreadyExpired) : .success(.removed)
            let actual = Result { () throws(HeartbeatError) in try wheel.remove(node.handle) }
            guard actual == expected else { return "remove \(node.handle) gave \(actual), expected \(expected)" }
            if case .success(.removed) = actual { nodes[position].phase = .removed }
            return nil
        }

        /// Small steps (a fraction of a slot to a few slots) or jumps of up to four maximum TTLs.
        mutating func advance(_ byte: Int) throws -> String? {
            let step = byte < 192 ? UInt64(byte) * slotMicros / 32 : UInt64(byte - 191) * maximumTTLMicros / 16
            return try advance(by: step)
        }

        mutating func advance(by step: UInt64) throws -> String? {
            nowMicros += step
            try clock.advance(by: .microseconds(Int64(step)))
            var delivered: [HeartbeatHandle] = []
            var lateBatch: BeaconInstant?
            try wheel.advance(to: clock.now) { expiry in
                delivered += expiry.handles
                if expiry.slotEnd > clock.now { lateBatch = expiry.slotEnd }
            }
            if let lateBatch { return "a batch for the slot ending \(lateBatch) was delivered before its end" }
            if publishesBeatClock { wheel.publishBeatClock(validUntil: clock.now) }
            var positions: [HeartbeatHandle: Int] = [:]
            for (position, node) in nodes.enumerated() where !isStale(node.handle) {
                positions[node.handle] = position
            }
            for handle in delivered {
                guard let position = positions[handle], nodes[position].phase == .armed else {
                    return
                        "\(handle) was delivered but the model has it \(positions[handle].map { "\(nodes[$0].phase)" } ?? "stale")"
                }
                let deadline = nodes[position].deadline
                if deadline > nowMicros {
                    return "\(handle) expired early: deadline \(deadline) µs, now \(nowMicros) µs"
                }
                nodes[position].phase = .expired
            }
            for node in nodes where node.phase == .armed {
                let slotEnd = (node.deadline / slotMicros + 1) * slotMicros
                if slotEnd <= nowMicros {
                    return
                        "\(node.handle) with deadline \(node.deadline) µs was not delivered by \(nowMicros) µs (lost or more than a slot late)"
                }
            }
            return nil
        }

        /// Runs the clock past every deadline: every armed node must expire and every removed
        /// record be recycled.
        mutating func finish() throws -> String? {
            if let failure = try advance(by: maximumTTLMicros + 2 * slotMicros) { return failure }
            if let due = wheel.nextDue() { return "the wheel still has a slot due at \(due) after every node ended" }
            let waiting = wheel.awaitingRecycle.load(ordering: .relaxed)
            return waiting == 0 ? nil : "\(waiting) removed records were never recycled"
        }
    }
}
