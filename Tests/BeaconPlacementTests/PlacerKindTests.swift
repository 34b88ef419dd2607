import BeaconCore
import Testing

@testable import BeaconPlacement

@Suite struct PlacerKindTests {
    /// The core placer a kind names is the one its placer is built on.
    @Test(arguments: PlacerKind.allCases) func eachKindNamesTheCorePlacerItIsBuiltOn(kind: PlacerKind) {
        let placer = kind.makePlacer(clock: ManualClock())
        let built: PlacerAlgorithm?
        if let placer = placer as? CallPlacer<LoadAwareOrder<BoundedLoadBalancer>> {
            built = PlacerAlgorithm(name: type(of: placer.order.balancer).algorithmName)
        } else if let placer = placer as? CallPlacer<LoadAwareOrder<PowerOfTwoChoicesPlacer>> {
            built = PlacerAlgorithm(name: type(of: placer.order.balancer).algorithmName)
        } else if let placer = placer as? CallPlacer<ConsistentHashOrder> {
            // The order calls `JumpHashPlacer.bucket` for its start in the uniform mode and Fn's
            // own jump otherwise; nothing in its type says so, so the test checks the start.
            let order = placer.order
            let jumps = (1...100).allSatisfy { step in
                let key = UInt64(step) &* 0x9E37_79B9_7F4A_7C15
                return order.startIndex(forKey: key, runnerCount: 97) == JumpHashPlacer.bucket(for: key, buckets: 97)
            }
            built = order.mode == .uniform && jumps ? .jump : nil
        } else {
            #expect(placer is CallPlacer<RoundRobinOrder>, "\(kind) is built on an order this test does not know")
            built = nil
        }
        #expect(built == kind.coreAlgorithm)
    }
}
