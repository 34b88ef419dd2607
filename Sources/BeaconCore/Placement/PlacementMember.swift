/// A member that keys can be placed on: a unique name and a relative weight.
///
/// The name is the member's identity: placers hash it (with the placer's ``KeyHasher``) to give
/// the member its positions, so a member keeps its keys across rebuilds, processes and restarts.
public struct PlacementMember: Sendable, Hashable, CustomStringConvertible {
    /// The member's unique, non-empty name.
    public var name: String
    /// The member's share relative to the others; 1 by default. Weighted placers give a member a
    /// share of keys proportional to its weight, and at least one point however small the weight.
    /// Finite, greater than 0 and at most ``maximumWeight``.
    public var weight: Double

    /// The largest weight a placer takes: 2⁵³, below which every whole number is exact, enough
    /// for a capacity in bytes. A member's points are its share of the total scaled by the point
    /// count, and past this bound, with a million members, that product overflows.
    public static let maximumWeight: Double = 0x1p53

    /// Creates a member. Validation happens when a placer receives it.
    ///
    /// - Complexity: O(1); the name is validated when a placer takes the member.
    public init(_ name: String, weight: Double = 1) {
        self.name = name
        self.weight = weight
    }

    /// The name, followed by `×weight` unless the weight is 1.
    ///
    /// - Complexity: O(m) for a name of m bytes.
    public var description: String { weight == 1 ? name : "\(name)×\(weight)" }
}
