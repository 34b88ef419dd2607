import PropertyBased
import Testing

@testable import BeaconCore

/// `acquire(forHash:skipping:)`, the form for members that may refuse: never a refused member,
/// the bound kept while an unrefused member is below it, nil only when all refused.
@Suite struct AcquireSkippingPropertyTests {
    /// One generated step: acquire for a key with a refusal mask, or release a held lease.
    static func step(_ code: Int) -> (acquire: Bool, key: UInt64, refusedMask: UInt64, pick: Int) {
        (code % 4 != 0, UInt64(code) &* 0x9E37_79B9_7F4A_7C15, UInt64(code / 4) & 0xFF, code / 16)
    }

    @Test func boundedLoadSkipsRefusedAndKeepsTheBoundWhileItCan() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000).array(of: 1...200)) { codes in
            let epsilon = 0.25
            let balancer = try BoundedLoadBalancer(members: members(6), epsilon: epsilon, virtualNodes: 16)
            var leases: [PlacementLease] = []
            for code in codes {
                let step = Self.step(code)
                if step.acquire {
                    let refused = { (index: Int) in step.refusedMask & (1 << UInt64(index)) != 0 }
                    let before = balancer.loads
                    let total = before.reduce(0, +) + 1
                    let cap = Int(((1 + epsilon) * Double(total) / 6).rounded(.up))
                    let roomLeft = (0..<6).contains { !refused($0) && before[$0] < cap }
                    guard let lease = try balancer.acquire(forHash: step.key, skipping: refused) else {
                        #expect((0..<6).allSatisfy(refused))
                        #expect(balancer.loads == before)
                        // The request counted while pinned is taken back.
                        #expect(balancer.tracker.snapshot.carried() == leases.count)
                        continue
                    }
                    leases.append(lease)
                    #expect(!refused(lease.memberIndex))
                    if roomLeft { #expect(balancer.loads[lease.memberIndex] <= cap) }
                } else if !leases.isEmpty {
                    try balancer.release(leases.remove(at: step.pick % leases.count))
                }
            }
            for lease in leases { try balancer.release(lease) }
            #expect(balancer.loads.allSatisfy { $0 == 0 })
            #expect(balancer.tracker.snapshot.carried() == 0)
        }
    }

    @Test func powerOfTwoSkipsRefused() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000).array(of: 1...200)) { codes in
            let placer = try PowerOfTwoChoicesPlacer(members: members(6))
            var leases: [PlacementLease] = []
            for code in codes {
                let step = Self.step(code)
                if step.acquire {
                    let refused = { (index: Int) in step.refusedMask & (1 << UInt64(index)) != 0 }
                    guard let lease = try placer.acquire(forHash: step.key, skipping: refused) else {
                        #expect((0..<6).allSatisfy(refused))
                        #expect(placer.tracker.snapshot.carried() == leases.count)
                        continue
                    }
                    leases.append(lease)
                    #expect(!refused(lease.memberIndex))
                } else if !leases.isEmpty {
                    try placer.release(leases.remove(at: step.pick % leases.count))
                }
            }
            for lease in leases { try placer.release(lease) }
            #expect(placer.loads.allSatisfy { $0 == 0 })
            #expect(placer.tracker.snapshot.carried() == 0)
        }
    }

    @Test func replacingMembersKeepsTheCountsOfMembersThatStay() throws {
        let balancer = try BoundedLoadBalancer(members: members(3))
        let lease = try balancer.acquire(forHash: 42)
        let holder = lease.memberName
        try balancer.replaceMembers(with: [PlacementMember("new")] + members(3))
        #expect(balancer.members.map(\.name) == ["new", "m0", "m1", "m2"])
        #expect(balancer.loads[balancer.members.firstIndex { $0.name == holder }!] == 1)
        try balancer.release(lease)
        #expect(balancer.loads.allSatisfy { $0 == 0 })
    }
}
