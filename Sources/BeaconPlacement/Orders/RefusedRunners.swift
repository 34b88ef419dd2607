/// The runners that refused a call during one pass, as a bit set. Runners 0–63 live in one word
/// inside the value; the rest in an array allocated on the first refusal past 63, so a pass whose
/// first runner accepts allocates nothing.
@usableFromInline
struct RefusedRunners {
    @usableFromInline var low: UInt64 = 0
    @usableFromInline var high: [UInt64] = []

    @usableFromInline init() {}

    @inlinable
    func contains(_ index: Int) -> Bool {
        if index < 64 { return low & (1 << UInt64(index)) != 0 }
        let word = (index >> 6) - 1
        return word < high.count && high[word] & (1 << UInt64(index & 63)) != 0
    }

    @inlinable
    mutating func insert(_ index: Int) {
        if index < 64 {
            low |= 1 << UInt64(index)
            return
        }
        let word = (index >> 6) - 1
        if word >= high.count { high.append(contentsOf: repeatElement(0, count: word + 1 - high.count)) }
        high[word] |= 1 << UInt64(index & 63)
    }
}
