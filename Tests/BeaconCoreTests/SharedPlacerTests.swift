@testable import BeaconCore
import Foundation
import Synchronization
import Testing

/// Readers on real threads while a writer changes membership; run under `--sanitize=thread` in CI.
@Suite struct SharedPlacerTests {
    @Test func readersSeeWholePlacersWhileAWriterChangesMembership() throws {
        let shared = SharedPlacer(try BoundedLoadTable(members: members(8)))
        let failures = Atomic<Int>(0)
        let lookups = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let threads = (0..<2).map { t in
            Thread {
                var reader = shared.makeReader()
                var stream = KeyStream(seed: UInt64(t))
                var count = 0
                while !done.load(ordering: .acquiring) || count < 10_000 {
                    let placer = reader.placer
                    // Within one placer, the answer is always a valid index, and asking the same
                    // placer twice gives the same answer.
                    let hash = stream.next()
                    guard let first = try? placer.memberIndex(forHash: hash),
                        first < placer.memberCount, (try? placer.memberIndex(forHash: hash)) == first,
                        let viaReader = try? reader.memberIndex(forHash: hash), viaReader < 20
                    else {
                        failures.wrappingAdd(1, ordering: .relaxed)
                        continue
                    }
                    count += 1
                }
                lookups.wrappingAdd(count, ordering: .relaxed)
            }
        }
        threads.forEach { $0.start() }
        for round in 0..<200 {
            try shared.add(PlacementMember("extra\(round)"))
            try shared.remove("extra\(round)")
            try shared.reweight("m\(round % 8)", to: Double(round % 3 + 1))
        }
        done.store(true, ordering: .releasing)
        while lookups.load(ordering: .acquiring) < 20_000 { Thread.sleep(forTimeInterval: 0.001) }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(shared.current.memberCount == 8)
    }

    @Test func balancerHoldsTheBoundAcrossThreads() throws {
        let balancer = try BoundedLoadBalancer(members: members(6), epsilon: 0.5)
        let finished = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        for t in 0..<2 {
            Thread {
                var stream = KeyStream(seed: UInt64(t) + 100)
                var held: [PlacementLease] = []
                for i in 0..<20_000 {
                    do {
                        held.append(try balancer.acquire(forHash: stream.next() % 16))
                        if i % 3 != 0, !held.isEmpty { try balancer.release(held.removeFirst()) }
                        if i % 500 == 0, t == 0 {
                            try balancer.add(PlacementMember("x\(i)"))
                            try balancer.remove("x\(i)")
                        }
                    } catch {
                        errors.wrappingAdd(1, ordering: .relaxed)
                    }
                }
                for lease in held { try? balancer.release(lease) }
                finished.wrappingAdd(1, ordering: .releasing)
            }.start()
        }
        while finished.load(ordering: .acquiring) < 2 { Thread.sleep(forTimeInterval: 0.001) }
        #expect(errors.load(ordering: .relaxed) == 0)
        #expect(balancer.loads.allSatisfy { $0 == 0 })
    }
}
