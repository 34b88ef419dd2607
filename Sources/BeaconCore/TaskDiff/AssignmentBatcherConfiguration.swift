/// When an ``AssignmentBatcher`` sends, and how large its messages may be.
public struct AssignmentBatcherConfiguration: Sendable, Hashable {
    /// How long after the last modification a batch goes out. Every modification restarts it.
    public let debounce: Duration
    /// A batch goes out as soon as it holds this many modifications, timer or not.
    public let maximumChanges: Int
    /// No message is larger; see ``AssignmentEncoder/byteBudget``.
    public let byteBudget: Int

    /// SwarmKit's values (100 ms, 100 modifications) and a 1 MiB budget. Throws
    /// ``TaskDiffError/invalidConfiguration(_:)`` for a negative debounce, fewer than one change
    /// per batch, or a budget out of ``AssignmentEncoder``'s range.
    public init(
        debounce: Duration = .milliseconds(100), maximumChanges: Int = 100,
        byteBudget: Int = AssignmentEncoder.defaultByteBudget
    ) throws(TaskDiffError) {
        guard debounce >= .zero else { throw .invalidConfiguration("debounce \(debounce) must not be negative") }
        guard maximumChanges >= 1 else {
            throw .invalidConfiguration("maximumChanges \(maximumChanges) must be at least 1")
        }
        _ = try AssignmentEncoder(byteBudget: byteBudget)
        self.debounce = debounce
        self.maximumChanges = maximumChanges
        self.byteBudget = byteBudget
    }

    /// SwarmKit's batching with a 1 MiB budget.
    public static let swarmKit = AssignmentBatcherConfiguration(
        validatedDebounce: .milliseconds(100), maximumChanges: 100, byteBudget: AssignmentEncoder.defaultByteBudget)

    private init(validatedDebounce: Duration, maximumChanges: Int, byteBudget: Int) {
        debounce = validatedDebounce
        self.maximumChanges = maximumChanges
        self.byteBudget = byteBudget
    }
}
