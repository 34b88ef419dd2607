import BeaconCore
import BeaconPrimitives

/// Chooses hosts with the core's bounded-load table (consistent hashing with bounded loads):
/// groups spread evenly over hosts — no host owns more than its rounded-up share of the table —
/// and a membership change moves only the groups it must.
///
/// Minimal movement needs the table's history, not just today's hosts: the state is the log of
/// joins and leaves (`+a,+b,-a`), replayed to rebuild the same table on any leader. The log is
/// compacted to the current hosts once it grows past twice their number plus 16, which moves
/// groups once, as a rebuild would.
public final class RingStrategy: SchedulingStrategy {
    public static let name = "ring"

    /// Tables by the log they came from. A decision usually extends a recent log by an entry or
    /// two, and groups with the same hosts joined in the same order share a log, so most
    /// decisions cost one incremental change rather than a replay.
    private let cache = PosixMutex<[String: BoundedLoadTable]>([:])
    private static let cacheLimit = 256
    /// How many trailing entries a cached log may lack and still be extended.
    private static let extensionLimit = 8

    public init() {}

    public func schedule(_ input: StrategyInput) throws(SchedulerError) -> StrategyDecision {
        try input.checkSchedulable()
        do {
            var log = Self.parse(input.previousState)
            var members = Self.replay(log)
            let present = Set(input.hosts.map(\.name))
            for name in members.sorted() where !present.contains(name) {
                log.append("-" + name)
                members.remove(name)
            }
            for host in input.hosts where members.insert(host.name).inserted {
                log.append("+" + host.name)
            }
            if log.count > 2 * members.count + 16 {
                log = members.sorted().map { "+" + $0 }
            }
            let table = try table(for: log)
            let hosts = try chooseReplicas(of: input.group, from: table, count: input.maxCount)
            return StrategyDecision(hosts: hosts, state: log.joined(separator: ","))
        } catch {
            throw .strategyFailed("\(error)")
        }
    }

    private static func parse(_ state: String?) -> [String] {
        (state ?? "").split(separator: ",").map(String.init).filter {
            $0.count > 1 && ($0.first == "+" || $0.first == "-")
        }
    }

    /// The members a log leaves.
    private static func replay(_ log: [String]) -> Set<String> {
        var members: Set<String> = []
        for entry in log {
            let name = String(entry.dropFirst())
            if entry.first == "+" { members.insert(name) } else { members.remove(name) }
        }
        return members
    }

    private func table(for log: [String]) throws(PlacementError) -> BoundedLoadTable {
        var table = try BoundedLoadTable(members: [])
        var start = 0
        let cached = cache.withLock { $0 }
        for missing in 0...min(Self.extensionLimit, log.count) {
            if let hit = cached[log.dropLast(missing).joined(separator: ",")] {
                table = hit
                start = log.count - missing
                break
            }
        }
        for entry in log[start...] {
            let name = String(entry.dropFirst())
            let member = table.members.contains { $0.name == name }
            if entry.first == "+", !member {
                table = try table.adding(PlacementMember(name))
            } else if entry.first == "-", member {
                table = try table.removing(name)
            }
        }
        let built = table
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[log.joined(separator: ",")] = built
        }
        return table
    }
}
