extension Array where Element: Comparable {
    /// The nearest-rank percentile of this array, which must be sorted ascending: the smallest
    /// value with at least `fraction` of the values at or below it; nil when empty.
    package func percentileOfSorted(_ fraction: Double) -> Element? {
        guard !isEmpty else { return nil }
        return self[Swift.max(0, Swift.min(count - 1, Int((Double(count) * fraction).rounded(.up)) - 1))]
    }
}
