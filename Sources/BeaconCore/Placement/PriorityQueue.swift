/// Members by a `Double` priority, highest first, ties broken by the member's identity so every
/// process picks the same member. Used to choose which members give or take table slots.
struct MemberPriorityQueue {
    /// Ordered so the heap's smallest entry is the one to pop: higher priority first, then lower
    /// identity.
    private struct Entry: Comparable {
        let priority: Double
        let identity: UInt64
        let member: Int

        static func < (a: Entry, b: Entry) -> Bool {
            a.priority != b.priority ? a.priority > b.priority : a.identity < b.identity
        }

        static func == (a: Entry, b: Entry) -> Bool {
            a.priority == b.priority && a.identity == b.identity
        }
    }

    private var heap = MinHeap<Entry>()

    var isEmpty: Bool { heap.isEmpty }

    mutating func insert(_ member: Int, priority: Double, identity: UInt64) {
        heap.insert(Entry(priority: priority, identity: identity, member: member))
    }

    /// Removes and returns the member with the highest priority.
    mutating func popMax() -> (member: Int, priority: Double, identity: UInt64)? {
        heap.popFirst().map { ($0.member, $0.priority, $0.identity) }
    }
}
