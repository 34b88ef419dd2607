/// A scheduling group's path: starts with `/` and does not end with one (mgmt's rules), so the
/// group's keys live under `path + "/"` and no group's prefix contains another's.
public struct GroupPath: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    /// - Throws: ``SchedulerError/invalidPath(_:)``.
    public init(_ rawValue: String) throws(SchedulerError) {
        guard rawValue.hasPrefix("/") else { throw .invalidPath("path must start with the slash char") }
        guard !rawValue.hasSuffix("/") else { throw .invalidPath("path must not end with the slash char") }
        guard !rawValue.utf8.contains(0) else { throw .invalidPath("path must not contain NUL") }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    var prefix: String { rawValue + "/" }
    var exchangePrefix: String { rawValue + "/exchange/" }
    var electionPrefix: String { rawValue + "/election/" }
    var scheduledKey: String { rawValue + "/scheduled" }
    var strategyStateKey: String { rawValue + "/strategy-state" }

    func exchangeKey(_ hostname: String) -> String { exchangePrefix + hostname }
    func electionKey(_ lease: LeaseID) -> String { electionPrefix + lease.hex }
}

/// Validates a hostname with mgmt's rules: non-empty, no `,` (the join character of
/// `scheduled`), and no `/` (it names a key under the group's exchange prefix).
func validateHostname(_ hostname: String) throws(SchedulerError) {
    guard !hostname.isEmpty else { throw .invalidHostname("hostname must not be empty") }
    guard !hostname.contains(",") else { throw .invalidHostname("hostname must not contain join char: ,") }
    guard !hostname.contains("/") else { throw .invalidHostname("hostname must not contain /") }
}
