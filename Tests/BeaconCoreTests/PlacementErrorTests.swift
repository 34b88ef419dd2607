import Testing

@testable import BeaconCore

@Suite struct PlacementErrorTests {
    @Test func emptyPlacersThrowNoMembers() throws {
        let empty: [any Placer] = [
            try JumpHashPlacer(members: []), try RendezvousPlacer(members: []), try RingPlacer(members: []),
            try MaglevPlacer(members: []), try BoundedLoadTable(members: []), try RoundRobinPlacer(members: []),
        ]
        for placer in empty {
            #expect(throws: PlacementError.noMembers) { try placer.memberIndex(for: "key") }
        }
        let balancer = try BoundedLoadBalancer(members: [])
        let powerOfTwo = try PowerOfTwoChoicesPlacer(members: [])
        #expect(throws: PlacementError.noMembers) { try balancer.acquire(for: "k") }
        #expect(throws: PlacementError.noMembers) { try balancer.acquire(forHash: 1, skipping: { _ in false }) }
        #expect(throws: PlacementError.noMembers) { try powerOfTwo.acquire(for: "k") }
        #expect(throws: PlacementError.noMembers) { try powerOfTwo.acquire(forHash: 1, skipping: { _ in false }) }
        // A failed acquire counts no request in flight.
        #expect(balancer.tracker.snapshot.carried() == 0)
        #expect(powerOfTwo.tracker.snapshot.carried() == 0)
        #expect(throws: PlacementError.noMembers) { try RingPlacer(members: []).replicas(for: "k", count: 1) }
    }

    @Test func removingTheLastMemberLeavesAnEmptyPlacer() throws {
        let table = try BoundedLoadTable(members: members(1)).removing("m0")
        #expect(throws: PlacementError.noMembers) { try table.memberIndex(for: "k") }
        let regrown = try table.adding(PlacementMember("x"))
        #expect(try regrown.memberIndex(for: "k") == 0)
    }

    @Test func duplicateUnknownAndEmptyNames() throws {
        #expect(throws: PlacementError.duplicateMember("a")) {
            try RingPlacer(members: [PlacementMember("a"), PlacementMember("a")])
        }
        #expect(throws: PlacementError.duplicateMember("m1")) {
            try BoundedLoadTable(members: members(3)).adding(PlacementMember("m1"))
        }
        #expect(throws: PlacementError.unknownMember("zz")) { try BoundedLoadTable(members: members(3)).removing("zz") }
        #expect(throws: PlacementError.unknownMember("zz")) {
            try RendezvousPlacer(members: members(3)).reweighting("zz", to: 2)
        }
        #expect(throws: PlacementError.emptyMemberName) { try MaglevPlacer(members: [PlacementMember("")]) }
    }

    /// Past 2⁵³ a finite weight once made the ring's and the tables' point counts overflow and
    /// trap; it is refused like the others.
    @Test(arguments: [0.0, -1, .nan, .infinity, -.infinity, 1e307, .greatestFiniteMagnitude, 0x1p53.nextUp])
    func badWeights(weight: Double) throws {
        let refused = PlacementError.invalidWeight(member: "a", weight: weight)
        if !weight.isNaN {
            #expect(throws: refused) { try RingPlacer(members: [PlacementMember("a", weight: weight)]) }
            #expect(throws: refused) { try BoundedLoadTable(members: [PlacementMember("a", weight: weight)]) }
            #expect(throws: refused) { try BoundedLoadBalancer(members: [PlacementMember("a", weight: weight)]) }
        }
        #expect(throws: PlacementError.self) { try RendezvousPlacer(members: [PlacementMember("a", weight: weight)]) }
        #expect(throws: PlacementError.self) { try BoundedLoadTable(members: members(2)).reweighting("m0", to: weight) }
        #expect(throws: PlacementError.self) {
            try RingPlacer(members: members(2)).adding(PlacementMember("x", weight: weight))
        }
    }

    /// The heaviest weight there is, beside the lightest: both members get points, and the
    /// light one at least one.
    @Test func theLargestWeightIsTaken() throws {
        let extremes = [
            PlacementMember("heavy", weight: PlacementMember.maximumWeight),
            PlacementMember("light", weight: .leastNonzeroMagnitude),
        ]
        let ring = try RingPlacer(members: extremes)
        #expect(Set(ring.owners) == [0, 1])
        _ = try BoundedLoadTable(members: extremes)
        _ = try BoundedLoadBalancer(members: extremes).acquire(for: "k")
    }

    @Test(arguments: [0.0, -0.5, .nan, .infinity])
    func badLoadFactor(epsilon: Double) {
        #expect(throws: PlacementError.self) { try BoundedLoadBalancer(members: members(2), epsilon: epsilon) }
    }

    @Test func badReplicaCounts() throws {
        let ring = try RingPlacer(members: members(3))
        #expect(throws: PlacementError.replicaCountExceedsMembers(requested: 4, members: 3)) {
            try ring.replicas(for: "k", count: 4)
        }
        #expect(throws: PlacementError.invalidReplicaCount(0)) { try ring.replicas(for: "k", count: 0) }
        #expect(throws: PlacementError.invalidReplicaCount(-2)) {
            try BoundedLoadTable(members: members(3)).replicas(for: "k", count: -2)
        }
    }

    @Test func badParameters() {
        #expect(throws: PlacementError.self) { try RingPlacer(members: members(2), virtualNodes: 0) }
        #expect(throws: PlacementError.self) { try BoundedLoadBalancer(members: members(2), capacity: 0) }
        #expect(throws: PlacementError.tooManyMembers(limit: 2)) {
            try BoundedLoadBalancer(members: members(3), capacity: 2)
        }
    }

    @Test func releaseWithoutAcquire() throws {
        let balancer = try BoundedLoadBalancer(members: members(2))
        let other = try BoundedLoadBalancer(members: members(2))
        let lease = try balancer.acquire(for: "k")
        #expect(throws: PlacementError.releaseWithoutAcquire(member: lease.memberName)) { try other.release(lease) }
        try balancer.release(lease)
        #expect(throws: PlacementError.releaseWithoutAcquire(member: lease.memberName)) { try balancer.release(lease) }
    }

    @Test func messagesNameTheProblem() {
        #expect(PlacementError.duplicateMember("n1").description.contains("'n1'"))
        #expect(PlacementError.invalidLoadFactor(-1).description.contains("ε"))
        #expect(PlacementError.replicaCountExceedsMembers(requested: 5, members: 3).description.contains("5"))
    }
}

@Suite struct LeaseLifecycleTests {
    /// A member removed with requests in flight keeps its counter until they drain; re-adding the
    /// same name gets a fresh counter, and the old leases still release cleanly.
    @Test func leasesOutliveTheirMember() throws {
        let balancer = try BoundedLoadBalancer(members: [PlacementMember("a")], capacity: 2)
        let old = try (0..<3).map { _ in try balancer.acquire(for: "k") }
        try balancer.remove("a")
        try balancer.add(PlacementMember("b"))
        // Slot of "a" is still draining and capacity is 2: a third member has no room yet.
        #expect(throws: PlacementError.tooManyMembers(limit: 1)) { try balancer.add(PlacementMember("a")) }
        for lease in old { try balancer.release(lease) }
        try balancer.add(PlacementMember("a"))
        let fresh = try balancer.acquire(for: "k")
        #expect(balancer.loads.reduce(0, +) == 1)
        try balancer.release(fresh)
        #expect(balancer.loads.allSatisfy { $0 == 0 })
    }
}
