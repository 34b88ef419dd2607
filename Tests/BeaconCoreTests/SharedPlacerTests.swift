import Foundation
import Synchronization
import Testing

@testable import BeaconCore

/// Readers on real threads while a writer changes membership; run under `--sanitize=thread` in CI.
/// The test thread waits for the workers with a `DispatchGroup` rather than polling a counter.
@Suite struct SharedPlacerTests {
    /// Starts `count` threads running `body(index)` and returns once every one has returned.
    static func startThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
        let finished = DispatchGroup()
        for index in 0..<count {
            finished.enter()
            Thread {
                defer { finished.leave() }
                body(index)
            }.start()
        }
        return finished
    }

    @Test func readersSeeWholePlacersWhileAWriterChangesMembership() throws {
        let shared = SharedPlacer(try BoundedLoadTable(members: members(8)))
        let failures = Atomic<Int>(0)
        let lookups = Atomic<Int>(0)
        let done = Atomic<Bool>(false)
        let readers = Self.startThreads(2) { t in
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
        for round in 0..<200 {
            try shared.add(PlacementMember("extra\(round)"))
            try shared.remove("extra\(round)")
            try shared.reweight("m\(round % 8)", to: Double(round % 3 + 1))
        }
        done.store(true, ordering: .releasing)
        readers.wait()
        #expect(lookups.load(ordering: .relaxed) >= 20_000)
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(shared.current.memberCount == 8)
    }

    @Test func balancerHoldsTheBoundAcrossThreads() throws {
        let balancer = try BoundedLoadBalancer(members: members(6), epsilon: 0.5)
        let errors = Atomic<Int>(0)
        let workers = Self.startThreads(2) { t in
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
        }
        workers.wait()
        #expect(errors.load(ordering: .relaxed) == 0)
        #expect(balancer.loads.allSatisfy { $0 == 0 })
    }
}
