/// A generation number drawn from a job's counter (``MasterWorkerStore/generateEpoch(for:)``):
/// every master start and every worker creation takes a new, larger one, so a message stamped
/// with an older epoch is recognisably from a predecessor.
public struct Epoch: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int64

    public init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// The first epoch a job's counter hands out (the counter starts at 1 and is incremented
    /// before it is read, as TiFlow's does).
    public static let first = Epoch(rawValue: 2)

    public static func < (lhs: Epoch, rhs: Epoch) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { "epoch \(rawValue)" }
}
