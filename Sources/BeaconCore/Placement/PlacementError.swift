/// Why a placement call was refused. Every public placement entry point throws this instead of
/// trapping on bad input.
public enum PlacementError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A lookup was made on a placer with no members.
    case noMembers
    /// A member with this name is already present.
    case duplicateMember(String)
    /// No member has this name.
    case unknownMember(String)
    /// A member name must be non-empty.
    case emptyMemberName
    /// A weight was zero, negative, NaN or infinite.
    case invalidWeight(member: String, weight: Double)
    /// This placer places by position only and cannot honour weights other than 1.
    case weightsUnsupported(placer: String, member: String, weight: Double)
    /// The load-bound factor ε must be finite and greater than zero.
    case invalidLoadFactor(Double)
    /// A replica set larger than the number of members was asked for.
    case replicaCountExceedsMembers(requested: Int, members: Int)
    /// A replica set must hold at least one member.
    case invalidReplicaCount(Int)
    /// The placer cannot hold more members than this.
    case tooManyMembers(limit: Int)
    /// A configuration value (virtual nodes per member, table size, capacity) is out of range.
    case invalidParameter(name: String, value: Int, allowed: ClosedRange<Int>)
    /// A lease was released more often than it was acquired, or was from another balancer.
    case releaseWithoutAcquire(member: String)
    /// Slot owners given to restore a table break its bounds.
    case invalidTable(String)

    /// A sentence naming the problem and the values involved.
    ///
    /// - Complexity: O(m) for the m bytes of the names the message quotes.
    public var description: String {
        switch self {
        case .noMembers:
            "placement needs at least one member, and this placer has none"
        case .duplicateMember(let name):
            "member '\(name)' is already present; remove it first or re-weight it"
        case .unknownMember(let name):
            "no member is named '\(name)'"
        case .emptyMemberName:
            "a member name must not be empty"
        case .invalidWeight(let member, let weight):
            "weight \(weight) of member '\(member)' is invalid: it must be finite, greater than 0 and at most 2^53"
        case .weightsUnsupported(let placer, let member, let weight):
            "\(placer) does not support weights, but member '\(member)' has weight \(weight); use ring, rendezvous or bounded-load placement"
        case .invalidLoadFactor(let epsilon):
            "load factor ε = \(epsilon) is invalid: it must be finite and greater than 0"
        case .replicaCountExceedsMembers(let requested, let members):
            "asked for \(requested) distinct replicas but only \(members) members exist"
        case .invalidReplicaCount(let count):
            "a replica set must hold at least one member, not \(count)"
        case .tooManyMembers(let limit):
            "this placer holds at most \(limit) members"
        case .invalidParameter(let name, let value, let allowed):
            "\(name) = \(value) is out of range; allowed: \(allowed.lowerBound)...\(allowed.upperBound)"
        case .releaseWithoutAcquire(let member):
            "release on member '\(member)' without a matching acquire"
        case .invalidTable(let reason):
            "the slot owners do not form a valid bounded-load table: \(reason)"
        }
    }
}
