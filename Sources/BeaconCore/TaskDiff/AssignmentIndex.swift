/// An open-addressing hash index from packed keys to positions in a dense array: what an
/// ``AssignmentTable`` looks keys up with.
///
/// `Dictionary` spent most of an upsert in SipHash and its copy-on-write checks; this index
/// hashes a key with one multiply-xorshift round, probes linearly through 16-byte buckets that
/// hold the key itself (so a probe never leaves the bucket array), and deletes by shifting
/// later buckets back instead of leaving tombstones, so probe runs stay short under churn. The
/// table is at most half full. The hash is seeded per index from the system's random source, so
/// keys chosen by a sender cannot be aimed at one probe run.
struct AssignmentIndex: Sendable {
    struct Bucket: Sendable {
        var key: UInt64
        /// Position in the dense array plus one; 0 marks an empty bucket.
        var slot: UInt32
    }

    private var buckets: [Bucket]
    private var mask: Int
    private let seed: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var generator = SystemRandomNumberGenerator()
        seed = generator.next()
        let size = Self.bucketCount(for: minimumCapacity)
        buckets = Array(repeating: Bucket(key: 0, slot: 0), count: size)
        mask = size - 1
    }

    /// A power of two at least twice `count`, and at least 16.
    private static func bucketCount(for count: Int) -> Int {
        var size = 16
        while size < count * 2 { size <<= 1 }
        return size
    }

    @inline(__always)
    private func home(of key: UInt64) -> Int {
        var z = key ^ seed
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        z ^= z >> 32
        return Int(truncatingIfNeeded: z) & mask
    }

    /// The position stored for `key`, or nil.
    @inline(__always)
    func position(of key: UInt64) -> Int? {
        var bucket = home(of: key)
        while true {
            let entry = buckets[bucket]
            if entry.slot == 0 { return nil }
            if entry.key == key { return Int(entry.slot) - 1 }
            bucket = (bucket + 1) & mask
        }
    }

    /// Stores `position` for a key that is not in the index.
    mutating func insert(_ key: UInt64, at position: Int) {
        if (count + 1) * 2 > buckets.count { grow() }
        var bucket = home(of: key)
        while buckets[bucket].slot != 0 { bucket = (bucket + 1) & mask }
        buckets[bucket] = Bucket(key: key, slot: UInt32(position + 1))
        count += 1
    }

    /// Points an indexed key at a new position.
    mutating func move(_ key: UInt64, to position: Int) {
        var bucket = home(of: key)
        while buckets[bucket].key != key || buckets[bucket].slot == 0 { bucket = (bucket + 1) & mask }
        buckets[bucket].slot = UInt32(position + 1)
    }

    /// Removes `key`, returning the position it had, or nil when absent.
    mutating func remove(_ key: UInt64) -> Int? {
        var bucket = home(of: key)
        while true {
            let entry = buckets[bucket]
            if entry.slot == 0 { return nil }
            if entry.key == key { break }
            bucket = (bucket + 1) & mask
        }
        let position = Int(buckets[bucket].slot) - 1
        // Backward-shift deletion: pull each later bucket of the run into the hole unless that
        // would move it before its home.
        var hole = bucket
        var next = (bucket + 1) & mask
        while buckets[next].slot != 0 {
            let distanceFromHome = (next - home(of: buckets[next].key)) & mask
            if distanceFromHome >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = Bucket(key: 0, slot: 0)
        count -= 1
        return position
    }

    /// Empties the index, keeping its buckets.
    mutating func removeAll() {
        guard count > 0 else { return }
        for index in buckets.indices { buckets[index] = Bucket(key: 0, slot: 0) }
        count = 0
    }

    /// Makes room for `capacity` keys at most half full.
    mutating func reserveCapacity(_ capacity: Int) {
        if capacity * 2 > buckets.count { rehash(into: Self.bucketCount(for: capacity)) }
    }

    private mutating func grow() {
        rehash(into: buckets.count * 2)
    }

    private mutating func rehash(into size: Int) {
        let old = buckets
        buckets = Array(repeating: Bucket(key: 0, slot: 0), count: size)
        mask = size - 1
        for entry in old where entry.slot != 0 {
            var bucket = home(of: entry.key)
            while buckets[bucket].slot != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = entry
        }
    }
}
