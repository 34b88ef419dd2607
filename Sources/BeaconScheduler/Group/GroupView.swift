import BeaconCoordination
import BeaconCore

/// What a participant knows of its group: the keys under the group's prefix, as of a revision.
/// Built from one read and kept current by the watch that follows it.
struct GroupView: Sendable {
    let path: GroupPath
    private(set) var values: [String: StoredValue] = [:]
    private(set) var revision: Int64 = 0
    /// The election candidate that leads: the oldest key (lowest create revision), as in etcd's
    /// election recipe. Kept as changes arrive, so a follower's step does not scan the group.
    private(set) var leader: StoredValue?
    /// The chosen hosts as the leader wrote them, sorted and without duplicates; nil before any
    /// decision. Parsed when the decision changes, not on every step.
    private(set) var scheduledHosts: [String]?

    init(path: GroupPath) {
        self.path = path
    }

    mutating func reset(to snapshot: StoreSnapshot) {
        values = Dictionary(snapshot.values.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        revision = snapshot.revision
        findLeader()
        parseScheduled()
    }

    mutating func apply(_ changes: [StoreChange]) {
        let electionPrefix = path.electionPrefix
        let scheduledKey = path.scheduledKey
        for change in changes where change.revision > revision {
            switch change {
            case .put(let value):
                values[value.key] = value
                if Self.isCandidate(value.key, under: electionPrefix) {
                    if value.key == leader?.key || leader.map({ Self.precedes(value, $0) }) ?? true { leader = value }
                } else if value.key == scheduledKey {
                    parseScheduled()
                }
            case .delete(let key, _):
                values.removeValue(forKey: key)
                if key == leader?.key {
                    findLeader()
                } else if key == scheduledKey {
                    parseScheduled()
                }
            }
        }
        if let last = changes.last?.revision { revision = max(revision, last) }
    }

    /// The hosts that registered, sorted by name, with the weights they advertise.
    var hosts: [SchedulingHost] {
        let prefix = path.exchangePrefix
        return values.values.compactMap { value -> SchedulingHost? in
            guard Self.isEntry(value.key, under: prefix) else { return nil }
            let name = String(value.key.dropFirst(prefix.count))
            return SchedulingHost(name, weight: ExchangeRecord(value.value).weight)
        }.sorted { $0.name < $1.name }
    }

    var scheduled: StoredValue? { values[path.scheduledKey] }
    var strategyState: StoredValue? { values[path.strategyStateKey] }

    subscript(key: String) -> StoredValue? { values[key] }

    private static func precedes(_ a: StoredValue, _ b: StoredValue) -> Bool {
        (a.createRevision, a.key) < (b.createRevision, b.key)
    }

    private mutating func findLeader() {
        let prefix = path.electionPrefix
        leader = values.values.lazy.filter { Self.isCandidate($0.key, under: prefix) }.min(by: Self.precedes)
    }

    /// An election entry: a lease's id in lowercase hexadecimal right under the prefix. Any other
    /// key there is not a candidate (another writer's, or a group's nested in this one by a
    /// build that allowed it), and taken for one it could hold the lead with nobody acting on it.
    private static func isCandidate(_ key: String, under prefix: String) -> Bool {
        guard isEntry(key, under: prefix) else { return false }
        let digits = key.utf8.dropFirst(prefix.utf8.count)
        return digits.count <= 16 && digits.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Whether `key` is one entry right under `prefix`: not empty, and no `/` after the prefix.
    /// The group's prefix also holds the keys of groups nested in it (`/a/election` is a group
    /// whose keys start with `/a/`), whose hosts and candidates are not this group's.
    private static func isEntry(_ key: String, under prefix: String) -> Bool {
        guard key.hasPrefix(prefix) else { return false }
        let rest = key.utf8.dropFirst(prefix.utf8.count)
        return !rest.isEmpty && !rest.contains(UInt8(ascii: "/"))
    }

    private mutating func parseScheduled() {
        scheduledHosts = scheduled.map { Set($0.value.split(separator: ",").map(String.init)).sorted() }
    }
}

/// The value a participant writes under its exchange key: `weight=<w>`.
struct ExchangeRecord: Sendable, Hashable {
    var weight: Double

    init(weight: Double) {
        self.weight = weight
    }

    /// Parses a stored value; anything unreadable (mgmt's placeholder "TODO") means weight 1.
    init(_ text: String) {
        var weight = 1.0
        for field in text.split(separator: ";") where field.hasPrefix("weight=") {
            // A weight the placer refuses is left out like any unreadable one: one host's record,
            // written by another build, must not stop the whole group from deciding.
            if let parsed = Double(field.dropFirst("weight=".count)), parsed > 0,
                parsed <= PlacementMember.maximumWeight
            {
                weight = parsed
            }
        }
        self.weight = weight
    }

    var text: String { "weight=\(weight)" }
}
