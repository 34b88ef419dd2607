/// One published server order. Immutable: writers build a new one and publish it, so readers
/// never lock and never see a list half-changed.
///
/// The order is `storage` read from `start`, wrapping around: moving the front server to the
/// end (every ``ServerManager/notifyFailed(_:)``) publishes the same storage with `start` + 1,
/// without copying the servers.
final class ServerList: Sendable {
    private let storage: [ManagedServer]
    private let start: Int

    init(_ servers: [ManagedServer]) {
        storage = servers
        start = 0
    }

    private init(storage: [ManagedServer], start: Int) {
        self.storage = storage
        self.start = start
    }

    var count: Int { storage.count }

    @inline(__always)
    var first: ManagedServer? { storage.isEmpty ? nil : storage[start] }

    /// The servers, front first.
    var servers: [ManagedServer] {
        start == 0 ? storage : Array(storage[start...] + storage[..<start])
    }

    /// The same servers with the front one moved to the end.
    func cycled() -> ServerList {
        ServerList(storage: storage, start: storage.isEmpty ? 0 : (start + 1) % storage.count)
    }
}

extension Array where Element == ManagedServer {
    /// Consul's `cycleServer`: the front server moves to the end.
    mutating func cycleFront() {
        guard count > 1 else { return }
        append(removeFirst())
    }

    /// Consul's `reconcileServerList`: the order a rebalance chose (`self`), brought up to date
    /// with the list as it is now (`current`) — servers removed meanwhile are dropped, servers
    /// added meanwhile are appended, each server takes its current details. Nil when the chosen
    /// front server was removed meanwhile ("freeze in place": keep the current list).
    func reconciled(with current: [ManagedServer]) -> [ManagedServer]? {
        guard let front = first, !current.isEmpty else { return nil }
        let now = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard now[front.name] != nil else { return nil }
        var result = compactMap { now[$0.name] }
        let kept = Set(result.map(\.name))
        result.append(contentsOf: current.filter { !kept.contains($0.name) })
        return result
    }
}
