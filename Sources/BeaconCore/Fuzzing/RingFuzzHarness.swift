/// The `RingFuzz` libFuzzer target's logic: decodes bytes into a sequence of membership changes,
/// lookups, acquires and releases, applies them to every placer and to a plain dictionary model,
/// and checks each placer against the model after every step; the bounded-load table's full
/// slot walk runs once, at the end of the input.
///
/// A membership change rebuilds five placers, so an input makes at most ``membershipChangeLimit``
/// of them (later ones are skipped) over at most ``memberLimit`` members: the bugs this target
/// looks for show in a few dozen changes of a small set, and the cap keeps it above a thousand
/// inputs a second.
///
/// It lives in the library (with `package` access) so unit tests replay committed inputs through
/// the same code. Not for use outside Beacon's tests and fuzzers.
package enum RingFuzzHarness {
    static let memberLimit = 12
    static let membershipChangeLimit = 12

    /// Runs one input; returns a description of the first broken invariant, or `nil`.
    package static func run(_ input: UnsafeRawBufferPointer) -> String? {
        var bytes = FuzzByteReader(input)
        do {
            var state = try State()
            while let op = bytes.next() {
                if let failure = try state.step(op, &bytes) { return failure }
            }
            return try state.finish()
        } catch {
            return "unexpected error: \(error)"
        }
    }

    struct State {
        /// The model: member names and weights in insertion order.
        var model: [(name: String, weight: Double)] = []
        var table: BoundedLoadTable
        var ring: RingPlacer
        var rendezvous: RendezvousPlacer
        var jump: JumpHashPlacer
        var maglev: MaglevPlacer
        let balancer: BoundedLoadBalancer
        var leases: [PlacementLease] = []
        var membershipChanges = 0
        let epsilon = 0.25

        init() throws {
            table = try BoundedLoadTable(members: [])
            ring = try RingPlacer(members: [], virtualNodes: 8)
            rendezvous = try RendezvousPlacer(members: [])
            jump = try JumpHashPlacer(members: [])
            maglev = try MaglevPlacer(members: [])
            balancer = try BoundedLoadBalancer(members: [], epsilon: epsilon, virtualNodes: 8, capacity: 256)
        }

        var uniform: Bool { model.allSatisfy { $0.weight == 1 } }

        mutating func step(_ op: UInt8, _ bytes: inout FuzzByteReader) throws -> String? {
            let kind = op % 8
            if kind < 3 {
                guard membershipChanges < RingFuzzHarness.membershipChangeLimit else { return nil }
                membershipChanges += 1
            }
            switch kind {
            case 0:
                let name = "m\(bytes.byte() % 64)"
                let weight = Double(bytes.byte() % 8 + 1) / 2
                return try add(name, weight)
            case 1:
                guard !model.isEmpty else { return nil }
                return try remove(model[bytes.byte() % model.count].name)
            case 2:
                guard !model.isEmpty else { return nil }
                let name = model[bytes.byte() % model.count].name
                let weight = Double(bytes.byte() % 8 + 1) / 2
                return try reweight(name, weight)
            case 3, 4:
                return try lookup(bytes.word())
            case 5:
                return try acquire(bytes.word())
            case 6:
                guard !leases.isEmpty else { return nil }
                try balancer.release(leases.remove(at: bytes.byte() % leases.count))
                return nil
            default:
                return try badInput(bytes.byte())
            }
        }

        mutating func add(_ name: String, _ weight: Double) throws -> String? {
            let member = PlacementMember(name, weight: weight)
            if model.contains(where: { $0.name == name }) {
                return expect(.duplicateMember(name)) { try table.adding(member) }
                    ?? expect(.duplicateMember(name)) { try balancer.add(member) }
            }
            guard model.count < RingFuzzHarness.memberLimit else { return nil }
            model.append((name, weight))
            table = try table.adding(member)
            ring = try ring.adding(member)
            rendezvous = try rendezvous.adding(member)
            try balancer.add(member)
            if weight == 1 && uniform {
                jump = try jump.adding(member)
                maglev = try maglev.adding(member)
            } else if weight != 1,
                let failure = expect(
                    .weightsUnsupported(placer: "jump", member: name, weight: weight), { try jump.adding(member) })
            {
                return failure
            }
            try syncPositionPlacers()
            return check()
        }

        mutating func remove(_ name: String) throws -> String? {
            let wasUniform = uniform
            model.removeAll { $0.name == name }
            table = try table.removing(name)
            ring = try ring.removing(name)
            rendezvous = try rendezvous.removing(name)
            try balancer.remove(name)
            if wasUniform {
                jump = try jump.removing(name)
                maglev = try maglev.removing(name)
            }
            try syncPositionPlacers()
            return check()
        }

        mutating func reweight(_ name: String, _ weight: Double) throws -> String? {
            guard let index = model.firstIndex(where: { $0.name == name }) else { return nil }
            model[index].weight = weight
            table = try table.reweighting(name, to: weight)
            ring = try ring.reweighting(name, to: weight)
            rendezvous = try rendezvous.reweighting(name, to: weight)
            try balancer.reweight(name, to: weight)
            try syncPositionPlacers()
            return check()
        }

        /// Jump and Maglev take no weights: they sit out while weights differ and are rebuilt from
        /// the model once all weights are equal again.
        mutating func syncPositionPlacers() throws {
            if !uniform {
                jump = try JumpHashPlacer(members: [])
                maglev = try MaglevPlacer(members: [])
            } else if jump.memberCount != model.count || maglev.memberCount != model.count {
                let members = model.map { PlacementMember($0.name) }
                jump = try JumpHashPlacer(members: members)
                maglev = try MaglevPlacer(members: members)
            }
        }

        func lookup(_ hash: UInt64) throws -> String? {
            let placers: [any Placer] = [table, ring, rendezvous] + (uniform ? [jump, maglev] : [])
            for placer in placers {
                if model.isEmpty {
                    if let failure = expect(.noMembers, { try placer.memberIndex(forHash: hash) }) { return failure }
                    continue
                }
                let index = try placer.memberIndex(forHash: hash)
                guard index >= 0 && index < model.count else {
                    return "\(type(of: placer)) returned index \(index) of \(model.count)"
                }
            }
            guard model.count >= 1 else { return nil }
            if let failure = try ringAgreesWithItsPoints(hash) { return failure }
            // Replica sets: distinct, owner first, and refused beyond the member count.
            let k = Int(hash % UInt64(model.count)) + 1
            for placer in [table, ring, rendezvous] as [any ReplicaPlacer] {
                let set = try placer.replicas(forHash: hash, count: k)
                guard Set(set).count == k, set[0] == (try placer.memberIndex(forHash: hash)) else {
                    return "\(type(of: placer)) replica set \(set) is not distinct or does not start with the owner"
                }
            }
            return expect(.replicaCountExceedsMembers(requested: model.count + 1, members: model.count)) {
                try ring.replicas(forHash: hash, count: model.count + 1)
            }
        }

        /// The ring's answer against a scan of its own points, at `hash` and on and beside the
        /// point `hash` picks, where an off-by-one in the index walk would show.
        func ringAgreesWithItsPoints(_ hash: UInt64) throws -> String? {
            let point = ring.positions[Int(hash % UInt64(ring.pointCount))]
            for probe in [hash, point &- 1, point, point &+ 1] {
                let owner = ring.owner(atPoint: ring.positions.firstIndex { $0 >= probe } ?? 0)
                let answer = try ring.memberIndex(forHash: probe)
                guard answer == owner else {
                    return "ring gave member \(answer) for hash \(probe), its points \(owner)"
                }
            }
            return nil
        }

        mutating func acquire(_ hash: UInt64) throws -> String? {
            if model.isEmpty { return expect(.noMembers) { try balancer.acquire(forHash: hash) } }
            let inFlight = leases.count
            let lease = try balancer.acquire(forHash: hash)
            leases.append(lease)
            let members = balancer.members
            let total = members.reduce(0) { $0 + $1.weight }
            let cap = exactCap(requests: inFlight + 1, weight: members[lease.memberIndex].weight, totalWeight: total)
            let load = balancer.loads[lease.memberIndex]
            return load <= cap ? nil : "member \(lease.memberName) holds \(load) requests, above its cap \(cap)"
        }

        /// The balancer's bound ⌈(1+ε)·requests·w/W⌉ in integers. ε is 1/4 and every weight a
        /// multiple of 1/2, so with h = 2w and H = 2W the bound is ⌈5·requests·h / (4·H)⌉: exact,
        /// where a floating-point model would share the rounding it is meant to catch (this
        /// target once found 1.25 · 34 · (3 / 8.5) = 15.000000000000002 letting a member take 16).
        func exactCap(requests: Int, weight: Double, totalWeight: Double) -> Int {
            precondition(epsilon == 0.25, "exactCap assumes ε = 1/4")
            let h = Int(weight * 2)
            let total = Int(totalWeight * 2)
            return (5 * requests * h + 4 * total - 1) / (4 * total)
        }

        func badInput(_ selector: Int) throws -> String? {
            switch selector % 4 {
            case 0: return expect(.invalidLoadFactor(0)) { try BoundedLoadBalancer(members: [], epsilon: 0) }
            case 1:
                let nan = PlacementMember("bad", weight: .nan)
                return expect(nil) { try table.adding(nan) }
            case 2: return expect(.unknownMember("absent")) { try table.removing("absent") }
            default: return expect(.emptyMemberName) { try ring.adding(PlacementMember("")) }
            }
        }

        /// Every placer holds exactly the model's members; the table's slot counts respect the caps.
        func check() -> String? {
            let names = Set(model.map(\.name))
            for placer in [table, ring, rendezvous] as [any Placer] where Set(placer.members.map(\.name)) != names {
                return
                    "\(type(of: placer)) members \(placer.members.map(\.name)) differ from the model \(names.sorted())"
            }
            if Set(balancer.members.map(\.name)) != names { return "balancer members differ from the model" }
            guard !model.isEmpty else { return nil }
            let total = table.members.reduce(0) { $0 + $1.weight }
            guard table.slotsPerMember.reduce(0, +) == table.slotCount else { return "slot counts do not add up" }
            for (i, member) in table.members.enumerated() {
                let fair = Double(table.slotCount) * member.weight / total
                let cap = Int(((1 + epsilon) * fair).rounded(.up))
                guard (1...max(1, cap)).contains(table.slotsPerMember[i]) else {
                    return "\(member.name) owns \(table.slotsPerMember[i]) slots, cap \(cap)"
                }
            }
            return nil
        }

        mutating func finish() throws -> String? {
            if let violation = table.invariantViolation() { return "bounded-load table: \(violation)" }
            for lease in leases { try balancer.release(lease) }
            leases.removeAll()
            return balancer.loads.allSatisfy { $0 == 0 } ? nil : "load left after releasing every lease"
        }

        /// Checks that `body` throws `error` (or any ``PlacementError`` when `error` is nil).
        func expect<T>(_ error: PlacementError?, _ body: () throws -> T) -> String? {
            do {
                _ = try body()
                return "expected \(error.map { "\($0)" } ?? "an error"), got a result"
            } catch let thrown as PlacementError {
                if let error, thrown != error { return "expected \(error), got \(thrown)" }
                return nil
            } catch {
                return "expected a PlacementError, got \(error)"
            }
        }
    }
}
