public import BeaconCoordination

/// A scheduling group's path: starts with `/` and does not end with one (mgmt's rules), so the
/// group's keys live under `path + "/"`. A group's prefix holds the keys of the groups nested in
/// it too (`/a/b` under `/a/`): a view reads only the entries right under its own exchange and
/// election prefixes, and no segment after the first may be `exchange` or `election`, whose
/// group's keys (`/a/exchange/scheduled`, say) would lie among the entries of the group above.
public struct GroupPath: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    /// - Throws: ``SchedulerError/invalidPath(_:)``.
    public init(_ rawValue: String) throws(SchedulerError) {
        guard rawValue.hasPrefix("/") else { throw .invalidPath("path must start with the slash char") }
        guard !rawValue.hasSuffix("/") else { throw .invalidPath("path must not end with the slash char") }
        guard !rawValue.utf8.contains(0) else { throw .invalidPath("path must not contain NUL") }
        if let reserved = rawValue.split(separator: "/").dropFirst().first(where: { Self.reserved.contains($0) }) {
            throw .invalidPath(
                "path must not nest a group in another's '\(reserved)' keys: no segment but the first may be exchange or election"
            )
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// The segments under which a group keeps its members' entries.
    private static let reserved: Set<Substring> = ["exchange", "election"]

    var prefix: String { rawValue + "/" }
    var exchangePrefix: String { rawValue + "/exchange/" }
    var electionPrefix: String { rawValue + "/election/" }
    var scheduledKey: String { rawValue + "/scheduled" }
    var strategyStateKey: String { rawValue + "/strategy-state" }

    /// A transaction condition that holds while the group's stored choice is exactly `hosts`.
    ///
    /// A host the group chose fences its own writes elsewhere in the same store with it, so that
    /// they fail once the group has chosen otherwise, even if the host has not heard yet (a
    /// partition, a paused process): `DispatcherLeadership` fences a leading dispatcher's
    /// writes this way.
    public func choiceCondition(hosts: [String]) -> StoreCondition {
        .value(key: scheduledKey, equals: Self.choiceValue(hosts))
    }

    /// The stored form of a choice: the hosts, without repeats, sorted, joined by `,`.
    static func choiceValue(_ hosts: [String]) -> String { Set(hosts).sorted().joined(separator: ",") }

    func exchangeKey(_ hostname: String) -> String { exchangePrefix + hostname }
    func electionKey(_ lease: LeaseID) -> String { electionPrefix + lease.hex }
}

/// Checks a participant's hostname with mgmt's rules before it joins a group: not empty, no `,`
/// (the join character of the group's `scheduled` value), and no `/` (the name is a key under
/// the group's exchange prefix).
///
/// ``Scheduler/schedule(path:hostname:options:)`` applies it; a command line calls it first so
/// that a bad name is refused before any store is opened.
///
/// - Throws: ``SchedulerError/invalidHostname(_:)`` naming the rule the hostname breaks.
public func validateHostname(_ hostname: String) throws(SchedulerError) {
    guard !hostname.isEmpty else { throw .invalidHostname("hostname must not be empty") }
    // By scalars: a `/` or `,` followed by a combining mark is one character with it, which
    // `contains` on characters would miss, and the name would add a level to its key.
    guard !hostname.unicodeScalars.contains(",") else {
        throw .invalidHostname("hostname must not contain join char: ,")
    }
    guard !hostname.unicodeScalars.contains("/") else { throw .invalidHostname("hostname must not contain /") }
}
