import BeaconCore

/// Timed events in order, ties broken by insertion order so runs are deterministic.
struct EventQueue {
    struct Event: Comparable {
        let time: UInt64
        let sequence: UInt64
        let call: Int
        let kind: UInt8

        static func < (a: Event, b: Event) -> Bool {
            (a.time, a.sequence) < (b.time, b.sequence)
        }

        static func == (a: Event, b: Event) -> Bool {
            (a.time, a.sequence) == (b.time, b.sequence)
        }
    }

    private var heap = MinHeap<Event>()
    private var nextSequence: UInt64 = 0

    mutating func push(_ time: UInt64, _ call: Int, _ kind: UInt8) {
        heap.insert(Event(time: time, sequence: nextSequence, call: call, kind: kind))
        nextSequence += 1
    }

    mutating func pop() -> Event? {
        heap.popFirst()
    }
}
