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
            built = placer.order.mode == .uniform ? .jump : nil
        } else {
            #expect(placer is CallPlacer<RoundRobinOrder>, "\(kind) is built on an order this test does not know")
            built = nil
        }
        #expect(built == kind.corePlacer)
    }
}
