/// A store built on another one: reads and watches go to ``base``, and a conformer writes only
/// ``DispatcherStore/commit(_:)``, to add what it needs around the base's commits: latency or
/// faults in a test, a record of every batch, a fence checked before each write.
///
/// ```swift
/// // A store that refuses writes, to see how a dispatcher behaves while its store is down.
/// final class UnwritableStore: DispatcherStoreWrapper {
///     let base = InMemoryDispatcherStore()
///     func commit(_ writes: [DispatcherWrite]) async throws(DispatcherError) {
///         throw .storeFailure("the store is down for maintenance")
///     }
/// }
/// ```
public protocol DispatcherStoreWrapper: DispatcherStore {
    associatedtype Base: DispatcherStore
    /// The store every read and watch goes to.
    var base: Base { get }
}

extension DispatcherStoreWrapper {
    public func node(_ id: NodeID) -> Node? { base.node(id) }
    public func allNodes() -> [Node] { base.allNodes() }
    public func task(_ id: String) -> DispatchedTask? { base.task(id) }
    public func tasks(on node: NodeID) -> [DispatchedTask] { base.tasks(on: node) }
    public func dependency(_ kind: DependencyKind, id: String) -> TaskDependency? { base.dependency(kind, id: id) }
    public func clusterSettings() -> ClusterSettings { base.clusterSettings() }
    public func watch(_ observer: @escaping @Sendable (StoreEvent) -> Void) -> StoreWatch { base.watch(observer) }
}
