/// A binary max-heap of members by a `Double` priority, ties broken by the member's identity so
/// every process picks the same member. Used to choose which members give or take table slots.
struct MemberPriorityQueue {
    private var heap: [(priority: Double, identity: UInt64, member: Int)] = []

    private static func above(
        _ a: (priority: Double, identity: UInt64, member: Int),
        _ b: (priority: Double, identity: UInt64, member: Int)
    ) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.identity < b.identity
    }

    var isEmpty: Bool { heap.isEmpty }

    mutating func insert(_ member: Int, priority: Double, identity: UInt64) {
        heap.append((priority, identity, member))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.above(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the member with the highest priority.
    mutating func popMax() -> (member: Int, priority: Double, identity: UInt64)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < heap.count && Self.above(heap[left], heap[best]) { best = left }
                if right < heap.count && Self.above(heap[right], heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return (top.member, top.priority, top.identity)
    }
}
