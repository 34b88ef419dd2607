/// The core's placement algorithms, by the names reports and command lines use: the one list that
/// `beacon bench placers` compares and that BeaconPlacement's call placers name the core placer
/// they are built on from.
///
/// Each name is the placer type's `algorithmName`, so a report, a command-line choice and the
/// type cannot disagree.
///
/// ```swift
/// PlacerAlgorithm(name: "maglev")            // .maglev
/// PlacerAlgorithm.allCases.map(\.name)       // ["bounded-load", "maglev", "jump", …]
/// ```
public enum PlacerAlgorithm: CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// ``BoundedLoadTable``: consistent hashing with bounded loads, precomputed over the keys'
    /// hash space.
    case boundedLoad
    /// ``MaglevPlacer``.
    case maglev
    /// ``JumpHashPlacer``.
    case jump
    /// ``RingPlacer``.
    case ring
    /// ``RendezvousPlacer``.
    case rendezvous
    /// ``BoundedLoadBalancer``: bounded loads over the requests in flight.
    case boundedLoadRequests
    /// ``PowerOfTwoChoicesPlacer``.
    case powerOfTwo
    /// ``RoundRobinPlacer``.
    case roundRobin

    /// The algorithm's name: its placer type's `algorithmName`.
    ///
    /// - Complexity: O(1).
    public var name: String {
        switch self {
        case .boundedLoad: BoundedLoadTable.algorithmName
        case .maglev: MaglevPlacer.algorithmName
        case .jump: JumpHashPlacer.algorithmName
        case .ring: RingPlacer.algorithmName
        case .rendezvous: RendezvousPlacer.algorithmName
        case .boundedLoadRequests: BoundedLoadBalancer.algorithmName
        case .powerOfTwo: PowerOfTwoChoicesPlacer.algorithmName
        case .roundRobin: RoundRobinPlacer.algorithmName
        }
    }

    /// The algorithm named `name`, or nil when no algorithm has that name.
    ///
    /// - Complexity: O(k) for k algorithms.
    public init?(name: String) {
        guard let algorithm = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = algorithm
    }

    /// The name, as ``name``.
    ///
    /// - Complexity: O(1).
    public var description: String { name }
}
