import PropertyBased
import Testing

@testable import BeaconDispatcher

/// The node index (open addressing, backward-shift deletion) against a dictionary, over random
/// inserts and removals, with ids drawn from a small pool so that runs of colliding probes form.
@Suite struct NodeIndexPropertyTests {
    @Test func agreesWithADictionary() async {
        let step = PropertyBased.zip(Gen.int(in: 0...2), Gen.int(in: 0...199))
        await propertyCheck(count: 200, input: step.array(of: 1...400)) { steps in
            var index = NodeIndex()
            var slots: [UInt32: NodeID] = [:]
            var model: [NodeID: UInt32] = [:]
            var nextSlot: UInt32 = 0
            let nodeAt: (UInt32) -> NodeID? = { slots[$0] }
            for (operation, number) in steps {
                let node = nodeID("n\(number)")
                if operation < 2 {
                    guard model[node] == nil else { continue }
                    slots[nextSlot] = node
                    index.insert(node, slot: nextSlot) { slots[$0] }
                    model[node] = nextSlot
                    nextSlot += 1
                } else if let slot = model.removeValue(forKey: node) {
                    index.remove(node) { slots[$0] }
                    slots.removeValue(forKey: slot)
                }
            }
            #expect(index.count == model.count)
            for number in 0..<200 {
                let node = nodeID("n\(number)")
                #expect(index.slot(of: node, nodeAt: nodeAt) == model[node])
            }
        }
    }
}
