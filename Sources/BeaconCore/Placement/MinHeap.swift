/// A binary min-heap: ``popFirst()`` returns the smallest element. Elements that compare equal
/// come out in no set order, so a caller that needs the same sequence in every process gives its
/// elements a total order. Inlinable, and the type `@usableFromInline`: without the latter another
/// module's use was not specialised and ran through generic witnesses (the placement simulation
/// took four times as long).
@usableFromInline
package struct MinHeap<Element: Comparable> {
    @usableFromInline var elements: [Element] = []

    @inlinable
    package init() {}

    @inlinable
    package var isEmpty: Bool { elements.isEmpty }

    /// The smallest element, left in place.
    @inlinable
    package var first: Element? { elements.first }

    @inlinable
    package mutating func insert(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element.
    @inlinable
    package mutating func popFirst() -> Element? {
        guard let first = elements.first else { return nil }
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < elements.count && elements[left] < elements[smallest] { smallest = left }
                if right < elements.count && elements[right] < elements[smallest] { smallest = right }
                if smallest == parent { break }
                elements.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
