/// The embedded store's watchers by the prefix each one follows, so a write finds the watchers of
/// its key without testing every watcher (thousands of groups can share one store).
///
/// A key is looked up only at the prefix lengths some watcher uses: a store whose watchers follow
/// group prefixes of one or two lengths probes one or two prefixes of each key, where probing
/// every prefix of the key cost a string and a hash per byte of it.
struct WatcherIndex {
    private var byPrefix: [String: Set<Int>] = [:]
    /// How many prefixes of each length, in UTF-8 bytes, have watchers.
    private var prefixLengths: [Int: Int] = [:]

    mutating func insert(_ watcher: Int, following prefix: String) {
        if byPrefix[prefix, default: []].insert(watcher).inserted, byPrefix[prefix]?.count == 1 {
            prefixLengths[prefix.utf8.count, default: 0] += 1
        }
    }

    mutating func remove(_ watcher: Int, following prefix: String) {
        guard byPrefix[prefix]?.remove(watcher) != nil, byPrefix[prefix]?.isEmpty == true else { return }
        byPrefix[prefix] = nil
        let length = prefix.utf8.count
        prefixLengths[length]! -= 1
        if prefixLengths[length] == 0 { prefixLengths[length] = nil }
    }

    /// The watchers whose prefix begins `key`, compared byte by byte as etcd compares keys.
    func watchers(of key: String) -> Set<Int> {
        var found: Set<Int> = []
        let bytes = key.utf8
        for length in prefixLengths.keys where length <= bytes.count {
            // The key's first `length` bytes exactly: slicing the string there would round an
            // end inside a character (a `/` followed by a combining mark) down to its start.
            // Bytes that end inside a scalar decode to a replacement character, which no
            // watcher's prefix ends with.
            if let ids = byPrefix[String(decoding: bytes.prefix(length), as: UTF8.self)] { found.formUnion(ids) }
        }
        return found
    }
}
