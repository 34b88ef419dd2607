/// The embedded store's recent changes, oldest first, so a watch can resume from a revision.
///
/// Trimmed a whole revision at a time once it holds more than its limit. The dropped changes
/// are skipped by an offset and only moved out in bulk, once they make up half the storage:
/// moving the kept changes down on every write cost the store a copy of the whole history
/// (10 000 changes by default) per change.
struct ChangeHistory {
    private var storage: [StoreChange] = []
    /// Where the kept changes begin in `storage`.
    private var start = 0

    /// The revision of the oldest change kept, nil if none is.
    var oldestRevision: Int64? { start < storage.count ? storage[start].revision : nil }

    var count: Int { storage.count - start }

    /// Appends `changes`, then drops the oldest whole revisions until at most `limit` changes are
    /// kept (a revision with more changes than that goes whole, leaving none).
    mutating func append(_ changes: [StoreChange], keeping limit: Int) {
        storage.append(contentsOf: changes)
        if count > limit {
            // Whole revisions only: a watch resuming inside a half-dropped revision would miss
            // part of it.
            var cut = storage.count - limit
            let lastDropped = storage[cut - 1].revision
            while cut < storage.count, storage[cut].revision == lastDropped { cut += 1 }
            start = cut
        }
        if start > 0, start >= storage.count / 2 {
            storage.removeFirst(start)
            start = 0
        }
    }

    /// The changes after `revision` whose keys begin with `prefix` (compared byte by byte, as
    /// etcd compares keys).
    func changes(after revision: Int64, under prefix: String) -> [StoreChange] {
        storage[start...].filter { $0.revision > revision && $0.key.utf8.starts(with: prefix.utf8) }
    }
}
