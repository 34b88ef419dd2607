/// Values indexed by heartbeat-wheel slot: a dense array, since the wheel hands out low slot
/// numbers first and reuses freed ones, so it stays about as long as the most nodes ever held.
struct SlotArray<Element> {
    private var storage: [Element?] = []
    private(set) var count = 0

    subscript(index: UInt32) -> Element? {
        get { Int(index) < storage.count ? storage[Int(index)] : nil }
        set {
            let position = Int(index)
            if position >= storage.count {
                guard newValue != nil else { return }
                storage.append(contentsOf: repeatElement(nil, count: position - storage.count + 1))
            }
            switch (storage[position] != nil, newValue != nil) {
            case (false, true): count += 1
            case (true, false): count -= 1
            default: break
            }
            storage[position] = newValue
        }
    }

    @discardableResult
    mutating func removeValue(forKey index: UInt32) -> Element? {
        let old = self[index]
        self[index] = nil
        return old
    }

    /// The elements with their indices, in index order.
    var indexedValues: some Sequence<(UInt32, Element)> {
        storage.lazy.enumerated().compactMap { index, element in element.map { (UInt32(index), $0) } }
    }

    mutating func removeAll() {
        storage = []
        count = 0
    }
}
