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
    /// The hosts that registered, sorted by name, with the weights they advertise. Kept as
    /// changes arrive, each record parsed once, so the leader's step does not cut and parse every
    /// exchange key of the group each time it runs.
    private(set) var hosts: [SchedulingHost] = []
    /// The keys the last ``apply(_:)`` changed; nil after ``reset(to:)``, when any key may have.
    private(set) var changedKeys: [String]?

    init(path: GroupPath) {
        self.path = path
    }

    mutating func reset(to snapshot: StoreSnapshot) {
        values = Dictionary(snapshot.values.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        revision = snapshot.revision
        changedKeys = nil
        findLeader()
        parseScheduled()
        let prefix = path.exchangePrefix
        hosts = values.values.compactMap { Self.host(in: $0, under: prefix) }.sorted { $0.name < $1.name }
    }

    mutating func apply(_ changes: [StoreChange]) {
        let electionPrefix = path.electionPrefix
        let exchangePrefix = path.exchangePrefix
        let scheduledKey = path.scheduledKey
        var changed: [String] = []
        for change in changes where change.revision > revision {
            changed.append(change.key)
            switch change {
            case .put(let value):
                values[value.key] = value
                if let host = Self.host(in: value, under: exchangePrefix) {
                    let place = hostIndex(of: host.name)
                    if place < hosts.count, hosts[place].name == host.name {
                        hosts[place] = host
                    } else {
                        hosts.insert(host, at: place)
                    }
                } else if Self.isCandidate(value.key, under: electionPrefix) {
                    if value.key == leader?.key || leader.map({ Self.precedes(value, $0) }) ?? true { leader = value }
                } else if value.key == scheduledKey {
                    parseScheduled()
                }
            case .delete(let key, _):
                values.removeValue(forKey: key)
                if Self.isEntry(key, under: exchangePrefix) {
                    let name = String(key.dropFirst(exchangePrefix.count))
                    let place = hostIndex(of: name)
                    if place < hosts.count, hosts[place].name == name { hosts.remove(at: place) }
                } else if key == leader?.key {
                    findLeader()
                } else if key == scheduledKey {
                    parseScheduled()
                }
            }
        }
        changedKeys = changed
        if let last = changes.last?.revision { revision = max(revision, last) }
    }

    /// The host an exchange entry registers, nil for any other key.
    private static func host(in value: StoredValue, under prefix: String) -> SchedulingHost? {
        guard isEntry(value.key, under: prefix) else { return nil }
        return SchedulingHost(String(value.key.dropFirst(prefix.count)), weight: ExchangeRecord.weight(in: value.value))
    }

    /// Where `name` is in `hosts`, or would be inserted.
    private func hostIndex(of name: String) -> Int {
        var low = 0
        var high = hosts.count
        while low < high {
            let middle = (low + high) / 2
            if hosts[middle].name < name { low = middle + 1 } else { high = middle }
        }
        return low
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
        // By bytes: a name that starts with a combining mark joins the prefix's `/` into one
        // character, and `hasPrefix` would say the key is not under it.
        guard key.utf8.starts(with: prefix.utf8) else { return false }
        let rest = key.utf8.dropFirst(prefix.utf8.count)
        return !rest.isEmpty && !rest.contains(UInt8(ascii: "/"))
    }

    private mutating func parseScheduled() {
        scheduledHosts = scheduled.map { Set($0.value.split(separator: ",").map(String.init)).sorted() }
    }
}

/// The value a participant writes under its exchange key: `weight=<w>`.
struct ExchangeRecord: Sendable, Hashable {
    let weight: Double
    /// The stored form, made once: a participant compares it with the stored value at every step.
    let text: String

    init(weight: Double) {
        self.weight = weight
        text = "weight=\(weight)"
    }

    /// Parses a stored value; anything unreadable (mgmt's placeholder "TODO") means weight 1.
    static func weight(in text: String) -> Double {
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
        return weight
    }
}
